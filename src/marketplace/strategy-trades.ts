/**
 * A strategy's trades as its page lists them: closed trades page by page (declared and market prices,
 * PnL at market prices, duration) and open trades with their unrealised PnL.
 *
 * Unrealised PnL is the move from the market price at the open signal (`entryMarketPrice`) to the
 * reference market's current price (the trade monitor's price feed, shared through Redis with api
 * processes; a price counts while younger than PRICE_MAX_AGE_MS). Without a fresh price the trade says
 * PRICE_UNAVAILABLE and the pair is noted as wanted, so the monitor starts polling it; without a market
 * entry price it says ENTRY_NOT_VERIFIED. Neither case shows a number.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { PrismaClient, Trade } from '@prisma/client';
import { describeRoutes } from '../http/openapi.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { notFound } from '../lib/errors.js';
import { pnlPct } from '../signals/index.js';
import { closedTradeView } from './track-record.js';

/** The reference market's current prices as the strategy routes read them (ReferencePrices). */
export interface CurrentPrices {
  /** A fresh last price, or undefined when none is known or it is older than the allowed age. */
  price(pair: string): { last: number; at: number } | undefined;
  /** Asks the monitor to poll a pair nobody watches yet. */
  noteInterest?(pair: string): void;
}

export type UnrealisedStatus = 'OK' | 'PRICE_UNAVAILABLE' | 'ENTRY_NOT_VERIFIED';

const n = (d: { toString(): string } | null): number | null => (d === null ? null : Number(d.toString()));

/** An open trade with its unrealised PnL at the reference market's current price. */
export function openTradeView(t: Trade, prices: CurrentPrices | undefined) {
  const entryMarket = n(t.entryMarketPrice);
  const now = prices?.price(t.pair);
  if (!now) prices?.noteInterest?.(t.pair);
  const status: UnrealisedStatus = entryMarket === null || entryMarket <= 0 ? 'ENTRY_NOT_VERIFIED' : now ? 'OK' : 'PRICE_UNAVAILABLE';
  return {
    id: t.id, pair: t.pair, direction: t.direction, entryPrice: n(t.entryPrice)!, entryMarketPrice: entryMarket,
    priceVerified: entryMarket !== null, stopLoss: n(t.stopLoss), takeProfit: n(t.takeProfit), openedAt: t.openedAt.toISOString(),
    lastPrice: now?.last ?? null, priceAt: now ? new Date(now.at).toISOString() : null,
    unrealisedPnlPct: status === 'OK' ? pnlPct(t.direction, entryMarket!, now!.last) : null,
    unrealisedStatus: status,
  };
}

/** GET /api/strategies/:id/closed-trades query. */
const closedQuery = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
}).strict();

const closedTradeSchema = z.object({
  id: z.string(), pair: z.string(), direction: z.enum(['LONG', 'SHORT']),
  entryPrice: z.number(), entryMarketPrice: z.number().nullable(), exitPrice: z.number(), exitMarketPrice: z.number().nullable(),
  pnlPct: z.number().nullable().describe('at market prices; null: price not verified (not counted)'),
  declaredPnlPct: z.number().nullable().describe('from the declared prices, for comparison only'),
  verified: z.boolean(), closeReason: z.string().nullable(), openedAt: z.string(), closedAt: z.string(), durationSeconds: z.number().int(),
});

export function strategyTradeRoutes(deps: { prisma: PrismaClient }): Router {
  const r = Router();
  const { prisma } = deps;

  r.get('/api/strategies/:id/closed-trades', wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const q = parseBody(closedQuery, req.query);
    if (!(await prisma.strategy.count({ where: { id } }))) throw notFound('strategy');
    const where = { strategyId: id, status: 'COMPLETED' as const };
    const [total, rows] = await Promise.all([
      prisma.trade.count({ where }),
      prisma.trade.findMany({ where, orderBy: { closeSeq: 'desc' }, skip: (q.page - 1) * q.limit, take: q.limit }),
    ]);
    res.json({ trades: rows.map(closedTradeView), total, page: q.page, limit: q.limit, pages: Math.max(1, Math.ceil(total / q.limit)) });
  }));
  return r;
}

describeRoutes([
  {
    method: 'get', path: '/api/strategies/:id/closed-trades', tag: 'strategies', auth: 'public',
    summary: 'Closed trades, newest first, page by page: declared and market prices, PnL % at market prices, duration',
    query: closedQuery,
    responses: {
      200: { description: 'one page and the total count', schema: z.object({ trades: z.array(closedTradeSchema), total: z.number().int(), page: z.number().int(), limit: z.number().int(), pages: z.number().int() }) },
      400: 'VALIDATION_FAILED', 404: 'STRATEGY_NOT_FOUND',
    },
  },
]);
