/**
 * The signed-in user's side of the marketplace:
 *   GET  /api/me                              (any role) the user, the strategies they author, and the
 *                                             server's tradingMode (paper | live) for the site's banner
 *   GET  /api/exchanges                       (public) exchanges, tested or not; for the tested ones whether
 *                                             stop loss / take profit rest on the exchange (protectiveOrders)
 *                                             and whether USDT-margined perpetual futures are traded (futures)
 *   GET  /api/me/execution-summary            (any role) per own subscription: counts by status, realised PnL
 * Another user's subscription is a 404, never data.
 */
import { Router } from 'express';
import type { PrismaClient } from '@prisma/client';
import { accountGone, currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import { dialectFor } from '../exchange/index.js';
import { FUTURES_EXCHANGES, SUPPORTED_EXCHANGES } from '../subscriptions/index.js';

/** Listed on the subscribe form but not selectable: the executor is not tested against them. */
export const UNTESTED_EXCHANGES = ['okx', 'kraken', 'coinbase', 'kucoin'] as const;

export function accountRoutes(deps: { prisma: PrismaClient; tokens: TokenService; tradingMode?: 'paper' | 'live' }): Router {
  const r = Router();
  const { prisma } = deps;
  const auth = requireAuth(deps.tokens);

  r.get('/api/exchanges', (_req, res) => {
    res.json({ exchanges: [...SUPPORTED_EXCHANGES.map((id) => ({ id, tested: true, protectiveOrders: dialectFor(id)?.protectiveOrders ?? false, futures: FUTURES_EXCHANGES.includes(id) })), ...UNTESTED_EXCHANGES.map((id) => ({ id, tested: false }))] });
  });

  r.get('/api/me', auth, wrap(async (req, res) => {
    const user = await prisma.user.findUnique({ where: { id: currentUser(req).id }, select: { id: true, email: true, role: true, createdAt: true } });
    if (!user) throw accountGone();
    const strategies = await prisma.strategy.findMany({ where: { authorId: user.id }, orderBy: { createdAt: 'asc' }, select: { id: true, name: true, pairs: true, createdAt: true } });
    res.json({ user, strategies, tradingMode: deps.tradingMode ?? 'paper' });
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
  { method: 'get', path: '/api/exchanges', tag: 'account', auth: 'public', summary: 'Exchanges: the tested ones (selectable) and those listed as untested', responses: { 200: '{ exchanges: [{ id, tested, protectiveOrders?, futures? }] }' } },
  { method: 'get', path: '/api/me', tag: 'account', auth: 'user', summary: 'The signed-in user, the strategies they author and the trading mode (paper or live)', responses: { 200: '{ user, strategies, tradingMode }', 401: 'UNAUTHORIZED, TOKEN_INVALID, TOKEN_EXPIRED or ACCOUNT_NOT_FOUND' } },
  { method: 'get', path: '/api/me/execution-summary', tag: 'account', auth: 'user', summary: 'Per own subscription: execution counts by status and realised PnL (quote)', responses: { 200: '{ subscriptions }', 401: 'UNAUTHORIZED' } },
]);
