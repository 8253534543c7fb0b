/**
 * The signed-in user's side of the marketplace:
 *   GET  /api/me                              (any role) the user, the strategies they author, and the
 *                                             server's tradingMode (paper | live) for the site's banner
 *   GET  /api/exchanges                       (public) exchanges, tested or not; for the tested ones whether
 *                                             stop loss / take profit rest on the exchange (protectiveOrders)
 *   POST /api/subscriptions/:id/test-keys     (owner) fetchBalance with the stored keys; { ok, message };
 *                                             limited per user (429 RATE_LIMITED), budgeted per exchange
 *   GET  /api/me/execution-summary            (any role) per own subscription: counts by status, realised PnL
 * Another user's subscription is a 404, never data.
 */
import { Router, type RequestHandler } from 'express';
import type { PrismaClient } from '@prisma/client';
import { currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { uuidParam } from '../http/validate.js';
import { dialectFor } from '../exchange/index.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import type { Keyring } from '../lib/crypto.js';
import { AppError } from '../lib/errors.js';
import type { KeyChecker } from './key-check.js';
import { SUPPORTED_EXCHANGES } from './subscription-routes.js';

/** Listed on the subscribe form but not selectable: the executor is not tested against them. */
export const UNTESTED_EXCHANGES = ['okx', 'kraken', 'coinbase', 'kucoin'] as const;

/**
 * @param deps.testKeysLimiter per-user limiter of test-keys (runs after auth; keyed by the user id): each
 *   test is an exchange call, and the exchange's request weight is shared by every user of the server
 */
export function accountRoutes(deps: { prisma: PrismaClient; tokens: TokenService; keyring: Keyring; keyChecker: KeyChecker; testKeysLimiter?: RequestHandler; tradingMode?: 'paper' | 'live' }): Router {
  const r = Router();
  const { prisma } = deps;
  const auth = requireAuth(deps.tokens);

  r.get('/api/exchanges', (_req, res) => {
    res.json({ exchanges: [...SUPPORTED_EXCHANGES.map((id) => ({ id, tested: true, protectiveOrders: dialectFor(id)?.protectiveOrders ?? false })), ...UNTESTED_EXCHANGES.map((id) => ({ id, tested: false }))] });
  });

  r.get('/api/me', auth, wrap(async (req, res) => {
    const user = await prisma.user.findUnique({ where: { id: currentUser(req).id }, select: { id: true, email: true, role: true, createdAt: true } });
    if (!user) throw new AppError('UNAUTHORIZED', 'account no longer exists', 401);
    const strategies = await prisma.strategy.findMany({ where: { authorId: user.id }, orderBy: { createdAt: 'asc' }, select: { id: true, name: true, pairs: true, createdAt: true } });
    res.json({ user, strategies, tradingMode: deps.tradingMode ?? 'paper' });
  }));

  const testKeysLimiter: RequestHandler = deps.testKeysLimiter ?? ((_req, _res, next) => next());
  r.post('/api/subscriptions/:id/test-keys', auth, testKeysLimiter, wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'subscription');
    const s = await prisma.subscription.findUnique({ where: { id } });
    if (!s || s.userId !== currentUser(req).id) throw new AppError('NOT_FOUND', 'subscription not found', 404);
    if (!s.hasKeys || !s.apiKeyEnc || !s.apiSecretEnc) throw new AppError('NO_KEYS', 'this subscription has no API keys stored', 409);
    const result = await deps.keyChecker.check(s.exchange, deps.keyring.decrypt(s.apiKeyEnc), deps.keyring.decrypt(s.apiSecretEnc));
    // Only a definite answer changes the flag; "could not tell" leaves it as it was.
    if (result.ok || result.code === 'EXCHANGE_AUTH') await prisma.subscription.update({ where: { id }, data: { keysInvalid: !result.ok } });
    if (result.retryAfterSeconds) res.setHeader('Retry-After', String(result.retryAfterSeconds));
    res.json(result);
  }));

  r.get('/api/me/execution-summary', auth, wrap(async (req, res) => {
    const userId = currentUser(req).id;
    const groups = await prisma.executionLog.groupBy({ by: ['subscriptionId', 'status'], where: { userId }, _count: true, _sum: { realisedPnl: true } });
    const subs = await prisma.subscription.findMany({ where: { userId }, orderBy: { createdAt: 'desc' }, include: { strategy: { select: { name: true } } } });
    const summary = subs.map((s) => {
      const mine = groups.filter((g) => g.subscriptionId === s.id);
      const counts = Object.fromEntries(mine.map((g) => [g.status, g._count]));
      const realisedPnl = mine.reduce((a, g) => a + Number(g._sum.realisedPnl ?? 0), 0);
      return { subscriptionId: s.id, strategyId: s.strategyId, strategyName: s.strategy.name, exchange: s.exchange, status: s.status, counts, realisedPnl: Math.round(realisedPnl * 1e8) / 1e8 };
    });
    res.json({ subscriptions: summary });
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/exchanges', tag: 'account', auth: 'public', summary: 'Exchanges: the tested ones (selectable) and those listed as untested', responses: { 200: '{ exchanges: [{ id, tested, protectiveOrders? }] }' } },
  { method: 'get', path: '/api/me', tag: 'account', auth: 'user', summary: 'The signed-in user, the strategies they author and the trading mode (paper or live)', responses: { 200: '{ user, strategies, tradingMode }', 401: 'UNAUTHORIZED' } },
  { method: 'post', path: '/api/subscriptions/:id/test-keys', tag: 'subscriptions', auth: 'user', summary: 'Check the stored API keys with a balance request on the exchange (a refusal marks keysInvalid)', responses: { 200: '{ ok, message, free?, code? }', 404: 'NOT_FOUND', 409: 'NO_KEYS', 429: 'RATE_LIMITED' } },
  { method: 'get', path: '/api/me/execution-summary', tag: 'account', auth: 'user', summary: 'Per own subscription: execution counts by status and realised PnL (quote)', responses: { 200: '{ subscriptions }', 401: 'UNAUTHORIZED' } },
]);
