/**
 * GET /api/strategies/:id/closed-trades: a strategy's closed trades page by page, newest first, with
 * declared and market prices, PnL % at market prices (null: price not verified) and duration.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { PrismaClient } from '@prisma/client';
import { describeRoutes } from '../http/openapi.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { notFound } from '../lib/errors.js';
import { closedTradeView } from './track-record.js';

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
