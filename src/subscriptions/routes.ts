/**
 * Subscriptions of the calling user (REST). Writes go through the SubscriptionRepository, which seals the
 * keys, enforces one live subscription per strategy (409 ALREADY_SUBSCRIBED) and publishes each change.
 * API keys are write-only: answered only as `apiKeyMasked`. A user never sees another user's
 * subscription (404).
 *   POST /api/subscriptions/:id/test-keys   (owner) fetchBalance with the stored keys; { ok, message };
 *                                           limited per user (429 RATE_LIMITED), budgeted per exchange
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Subscription } from '@prisma/client';
import { requireAuth, currentUser, type TokenService } from '../http/auth.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import { DIALECT_IDS, futuresDialectFor } from '../exchange/index.js';
import { AppError } from '../lib/errors.js';
import { PAIR_RE } from '../signals/index.js';
import type { KeyChecker } from './key-check.js';
import type { SubscriptionRepository } from './repository.js';

/** Exchanges the executor trades (those with a venue dialect in src/exchange). */
export const SUPPORTED_EXCHANGES: readonly string[] = DIALECT_IDS;
/** Exchanges whose USDT-margined perpetual futures the executor trades (those with a futures dialect). */
export const FUTURES_EXCHANGES: readonly string[] = DIALECT_IDS.filter((id) => futuresDialectFor(id) !== undefined);

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
/** Futures: the leverage set on the venue (also checked against the symbol's bracket when an order is made). */
const leverage = z.number().int('must be a whole number').min(1, 'must be at least 1').max(125, 'must be at most 125');
const marginMode = z.enum(['isolated', 'cross']);
const futuresOnly = 'leverage and marginMode apply to futures subscriptions only (market: "futures")';
const NO_FUTURES = `futures are traded on ${FUTURES_EXCHANGES.join(' and ')} only; choose one of them or market "spot"`;

const createSchema = z.object({
  strategyId: z.string().uuid('must be a strategy id'),
  exchange: z.string().trim().toLowerCase().refine((e) => SUPPORTED_EXCHANGES.includes(e), `must be one of: ${SUPPORTED_EXCHANGES.join(', ')}`),
  /** spot (default) or futures: USDT-margined perpetuals; sizing is then the margin, margin × leverage the notional. */
  market: z.enum(['spot', 'futures']).default('spot'),
  leverage: leverage.optional(),
  marginMode: marginMode.optional(),
  allPairs: z.boolean().default(true),
  pairs: pairs.default([]),
  sizing,
  risk: risk.default({}),
  maxSlippagePercent: maxSlippagePercent.default(2),
  apiKey: key.optional(),
  apiSecret: key.optional(),
}).refine((b) => !!b.apiKey === !!b.apiSecret, { message: 'apiKey and apiSecret go together', path: ['apiSecret'] })
  .refine((b) => b.allPairs || b.pairs.length > 0, { message: 'choose pairs or set allPairs', path: ['pairs'] })
  .refine((b) => b.market !== 'futures' || FUTURES_EXCHANGES.includes(b.exchange), { message: NO_FUTURES, path: ['market'] })
  .refine((b) => b.market === 'futures' || (b.leverage ?? 1) === 1 && b.marginMode === undefined, { message: futuresOnly, path: ['leverage'] });

const patchSchema = z.object({
  status: z.enum(['ACTIVE', 'PAUSED']).optional(),
  allPairs: z.boolean().optional(),
  pairs: pairs.optional(),
  sizing: sizing.optional(),
  risk: risk.optional(),
  maxSlippagePercent: maxSlippagePercent.optional(),
  leverage: leverage.optional(),
  marginMode: marginMode.optional(),
  apiKey: key.optional(),
  apiSecret: key.optional(),
}).strict().refine((b) => !!b.apiKey === !!b.apiSecret, { message: 'apiKey and apiSecret go together', path: ['apiSecret'] });

/** The public shape: never the key material. */
export function subscriptionView(s: Subscription) {
  return {
    id: s.id, strategyId: s.strategyId, status: s.status, exchange: s.exchange, allPairs: s.allPairs, pairs: s.subscribedPairs,
    sizing: s.sizing, risk: s.risk, maxSlippagePercent: s.maxSlippagePercent, market: s.market, leverage: s.leverage, marginMode: s.marginMode, hasKeys: s.hasKeys, apiKeyMasked: s.apiKeyMasked, keysInvalid: s.keysInvalid,
    createdAt: s.createdAt, updatedAt: s.updatedAt,
  };
}

/**
 * @param deps.testKeysLimiter per-user limiter of test-keys (runs after auth; keyed by the user id): each
 *   test is an exchange call, and the exchange's request weight is shared by every user of the server
 */
export function subscriptionRoutes(deps: { subscriptions: SubscriptionRepository; tokens: TokenService; keyChecker: KeyChecker; testKeysLimiter?: RequestHandler }): Router {
  const r = Router();
  const subs = deps.subscriptions;
  const auth = requireAuth(deps.tokens);
  const own = (req: Parameters<typeof currentUser>[0]) => subs.owned(currentUser(req).id, uuidParam(req.params.id, 'subscription'));

  r.get('/api/subscriptions', auth, wrap(async (req, res) => {
    res.json({ subscriptions: (await subs.list(currentUser(req).id)).map(subscriptionView) });
  }));

  r.post('/api/subscriptions', auth, wrap(async (req, res) => {
    const s = await subs.create(currentUser(req).id, parseBody(createSchema, req.body));
    res.status(201).json(subscriptionView(s));
  }));

  r.patch('/api/subscriptions/:id', auth, wrap(async (req, res) => {
    const current = await own(req);
    subs.changeable(current);
    const body = parseBody(patchSchema, req.body);
    if (current.market !== 'futures' && ((body.leverage ?? 1) !== 1 || body.marginMode !== undefined)) {
      throw new AppError('VALIDATION_FAILED', `leverage: ${futuresOnly}`, 400, { details: { field: 'leverage' } });
    }
    res.json(subscriptionView(await subs.update(current.id, body)));
  }));

  r.delete('/api/subscriptions/:id', auth, wrap(async (req, res) => {
    const current = await own(req);
    res.json(subscriptionView(await subs.cancel(current.id)));
  }));

  const testKeysLimiter: RequestHandler = deps.testKeysLimiter ?? ((_req, _res, next) => next());
  r.post('/api/subscriptions/:id/test-keys', auth, testKeysLimiter, wrap(async (req, res) => {
    const s = await own(req);
    if (!s.hasKeys || !s.apiKeyEnc || !s.apiSecretEnc) throw new AppError('NO_KEYS', 'this subscription has no API keys stored', 409);
    const keys = subs.openKeys(s);
    const result = await deps.keyChecker.check(s.exchange, keys.apiKey, keys.secret);
    // Only a definite answer changes the flag; "could not tell" leaves it as it was.
    if (result.ok || result.code === 'EXCHANGE_AUTH') await subs.setKeysInvalid(s.id, !result.ok);
    if (result.retryAfterSeconds) res.setHeader('Retry-After', String(result.retryAfterSeconds));
    res.json(result);
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/subscriptions', tag: 'subscriptions', auth: 'user', summary: 'Your subscriptions (keys only as apiKeyMasked)', responses: { 200: '{ subscriptions }', 401: 'UNAUTHORIZED' } },
  { method: 'post', path: '/api/subscriptions', tag: 'subscriptions', auth: 'user', summary: 'Subscribe to a strategy: exchange, market (spot, or futures on binance/bybit with leverage and margin mode), pairs, sizing, risk, slippage bound, optional API keys (write-only)', body: createSchema, responses: { 201: 'the subscription', 400: 'VALIDATION_FAILED', 404: 'STRATEGY_NOT_FOUND', 409: 'ALREADY_SUBSCRIBED' } },
  { method: 'patch', path: '/api/subscriptions/:id', tag: 'subscriptions', auth: 'user', summary: 'Pause/resume, change pairs, sizing, risk, slippage bound, futures leverage and margin mode, or replace the keys', body: patchSchema, responses: { 200: 'the subscription', 400: 'VALIDATION_FAILED', 404: 'SUBSCRIPTION_NOT_FOUND', 409: 'SUBSCRIPTION_CANCELLED or ALREADY_SUBSCRIBED' } },
  { method: 'delete', path: '/api/subscriptions/:id', tag: 'subscriptions', auth: 'user', summary: 'Cancel (kept for its history; open positions can still be closed)', responses: { 200: 'the cancelled subscription', 404: 'SUBSCRIPTION_NOT_FOUND' } },
  { method: 'post', path: '/api/subscriptions/:id/test-keys', tag: 'subscriptions', auth: 'user', summary: 'Check the stored API keys with a balance request on the exchange (a refusal marks keysInvalid)', responses: { 200: '{ ok, message, free?, code? }', 404: 'SUBSCRIPTION_NOT_FOUND', 409: 'NO_KEYS or KEY_DECRYPT_FAILED', 429: 'RATE_LIMITED' } },
]);
