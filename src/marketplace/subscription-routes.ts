/**
 * Subscriptions of the calling user. API keys are write-only: stored as AES-256-GCM envelopes,
 * answered only as `apiKeyMasked`. A user never sees another user's subscription (404).
 * One live (ACTIVE or PAUSED) subscription per user and strategy: two would place two orders per
 * signal. The database enforces it (partial unique index); its violation is 409 ALREADY_SUBSCRIBED.
 * Every change is published on the bus (`subscription.changed`) so live consumers update at once.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { PrismaClient, Subscription } from '@prisma/client';
import type { Bus } from '../bus/index.js';
import { TOPICS } from '../bus/index.js';
import { requireAuth, currentUser, type TokenService } from '../http/auth.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import { maskSecret, type Keyring } from '../lib/crypto.js';
import { AppError, isUniqueViolation } from '../lib/errors.js';
import { PAIR_RE } from '../signals/index.js';

/** Exchanges the executor is tested against. */
export const SUPPORTED_EXCHANGES = ['binance', 'mexc', 'bybit'] as const;

const sizing = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('quote'), amount: z.number().positive('must be > 0').max(1e9) }),
  z.object({ mode: z.literal('percent'), percent: z.number().positive('must be > 0').max(100) }),
]);
const risk = z.object({
  maxTradePercent: z.number().positive().max(100).optional(),
  dailyLossLimit: z.number().positive().optional(),
  closeOnly: z.boolean().optional(),
}).strict();
const pairs = z.array(z.string().trim().toUpperCase().regex(PAIR_RE, 'must look like BASE/QUOTE')).max(200);
const key = z.string().trim().min(8, 'looks too short').max(512);
/** Percent from the signal's price beyond which the executor skips an OPEN (PRICE_MOVED). */
const maxSlippagePercent = z.number().positive('must be > 0').max(50, 'must be at most 50');

const createSchema = z.object({
  strategyId: z.string().uuid('must be a strategy id'),
  exchange: z.string().trim().toLowerCase().refine((e) => (SUPPORTED_EXCHANGES as readonly string[]).includes(e), `must be one of: ${SUPPORTED_EXCHANGES.join(', ')}`),
  allPairs: z.boolean().default(true),
  pairs: pairs.default([]),
  sizing,
  risk: risk.default({}),
  maxSlippagePercent: maxSlippagePercent.default(2),
  apiKey: key.optional(),
  apiSecret: key.optional(),
}).refine((b) => !!b.apiKey === !!b.apiSecret, { message: 'apiKey and apiSecret go together', path: ['apiSecret'] })
  .refine((b) => b.allPairs || b.pairs.length > 0, { message: 'choose pairs or set allPairs', path: ['pairs'] });

const patchSchema = z.object({
  status: z.enum(['ACTIVE', 'PAUSED']).optional(),
  allPairs: z.boolean().optional(),
  pairs: pairs.optional(),
  sizing: sizing.optional(),
  risk: risk.optional(),
  maxSlippagePercent: maxSlippagePercent.optional(),
  apiKey: key.optional(),
  apiSecret: key.optional(),
}).strict().refine((b) => !!b.apiKey === !!b.apiSecret, { message: 'apiKey and apiSecret go together', path: ['apiSecret'] });

/** The public shape: never the key material. */
export function subscriptionView(s: Subscription) {
  return {
    id: s.id, strategyId: s.strategyId, status: s.status, exchange: s.exchange, allPairs: s.allPairs, pairs: s.subscribedPairs,
    sizing: s.sizing, risk: s.risk, maxSlippagePercent: s.maxSlippagePercent, hasKeys: s.hasKeys, apiKeyMasked: s.apiKeyMasked, keysInvalid: s.keysInvalid,
    createdAt: s.createdAt, updatedAt: s.updatedAt,
  };
}

export function subscriptionRoutes(deps: { prisma: PrismaClient; tokens: TokenService; keyring: Keyring; bus: Bus }): Router {
  const r = Router();
  const { prisma, keyring, bus } = deps;
  const auth = requireAuth(deps.tokens);
  const keyFields = (apiKey?: string, apiSecret?: string) => apiKey && apiSecret
    ? { apiKeyEnc: keyring.encrypt(apiKey), apiSecretEnc: keyring.encrypt(apiSecret), apiKeyMasked: maskSecret(apiKey), hasKeys: true, keysInvalid: false }
    : {};
  /** Turns the one-live-subscription index's violation into 409 ALREADY_SUBSCRIBED. */
  const once = <T>(write: Promise<T>) => write.catch((err: unknown) => {
    if (isUniqueViolation(err)) throw new AppError('ALREADY_SUBSCRIBED', 'you already have a live subscription to this strategy: change, pause or cancel it under My subscriptions', 409);
    throw err;
  });
  const changed = (s: Subscription) => bus.publish(TOPICS.subscriptionChanged, { subscriptionId: s.id, userId: s.userId, strategyId: s.strategyId, status: s.status }).catch(() => {});

  async function own(req: Parameters<typeof currentUser>[0]) {
    const id = uuidParam(req.params.id, 'subscription');
    const s = await prisma.subscription.findUnique({ where: { id } });
    if (!s || s.userId !== currentUser(req).id) throw new AppError('NOT_FOUND', 'subscription not found', 404);
    return s;
  }

  r.get('/api/subscriptions', auth, wrap(async (req, res) => {
    const list = await prisma.subscription.findMany({ where: { userId: currentUser(req).id }, orderBy: { createdAt: 'desc' } });
    res.json({ subscriptions: list.map(subscriptionView) });
  }));

  r.post('/api/subscriptions', auth, wrap(async (req, res) => {
    const b = parseBody(createSchema, req.body);
    if (!(await prisma.strategy.count({ where: { id: b.strategyId } }))) throw new AppError('NOT_FOUND', 'strategy not found', 404);
    const s = await once(prisma.subscription.create({
      data: {
        userId: currentUser(req).id, strategyId: b.strategyId, exchange: b.exchange, allPairs: b.allPairs, subscribedPairs: b.pairs, sizing: b.sizing, risk: b.risk,
        maxSlippagePercent: b.maxSlippagePercent, ...keyFields(b.apiKey, b.apiSecret),
      },
    }));
    await changed(s);
    res.status(201).json(subscriptionView(s));
  }));

  r.patch('/api/subscriptions/:id', auth, wrap(async (req, res) => {
    const current = await own(req);
    if (current.status === 'CANCELLED') throw new AppError('SUBSCRIPTION_CANCELLED', 'a cancelled subscription cannot be changed; subscribe again', 409);
    const b = parseBody(patchSchema, req.body);
    const s = await once(prisma.subscription.update({
      where: { id: current.id },
      data: { status: b.status, allPairs: b.allPairs, subscribedPairs: b.pairs, sizing: b.sizing, risk: b.risk, maxSlippagePercent: b.maxSlippagePercent, ...keyFields(b.apiKey, b.apiSecret) },
    }));
    await changed(s);
    res.json(subscriptionView(s));
  }));

  r.delete('/api/subscriptions/:id', auth, wrap(async (req, res) => {
    const current = await own(req);
    // Cancelled, not deleted: its execution history stays, and its keys stay so that the executor can
    // still close a position the subscription holds (leaving a strategy never strands a position).
    const s = await prisma.subscription.update({ where: { id: current.id }, data: { status: 'CANCELLED' } });
    await changed(s);
    res.json(subscriptionView(s));
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/subscriptions', tag: 'subscriptions', auth: 'user', summary: 'Your subscriptions (keys only as apiKeyMasked)', responses: { 200: '{ subscriptions }', 401: 'UNAUTHORIZED' } },
  { method: 'post', path: '/api/subscriptions', tag: 'subscriptions', auth: 'user', summary: 'Subscribe to a strategy: exchange, pairs, sizing, risk, slippage bound, optional API keys (write-only)', body: createSchema, responses: { 201: 'the subscription', 400: 'VALIDATION_FAILED', 404: 'NOT_FOUND (strategy)', 409: 'ALREADY_SUBSCRIBED' } },
  { method: 'patch', path: '/api/subscriptions/:id', tag: 'subscriptions', auth: 'user', summary: 'Pause/resume, change pairs, sizing, risk, slippage bound, or replace the keys', body: patchSchema, responses: { 200: 'the subscription', 400: 'VALIDATION_FAILED', 404: 'NOT_FOUND', 409: 'SUBSCRIPTION_CANCELLED or ALREADY_SUBSCRIBED' } },
  { method: 'delete', path: '/api/subscriptions/:id', tag: 'subscriptions', auth: 'user', summary: 'Cancel (kept for its history; open positions can still be closed)', responses: { 200: 'the cancelled subscription', 404: 'NOT_FOUND' } },
]);
