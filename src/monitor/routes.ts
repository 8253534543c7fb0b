/**
 * GET /api/monitor/strategies/:id/open-trades (public): the strategy's open trades with the last
 * monitored price and the distance to each level, in percent of the last price. A positive distance
 * is room left before the level triggers; zero or negative means it is at or beyond the level (the
 * monitor's close is on its way). Null when the trade has no such level or no price is known yet.
 */
import { Router } from 'express';
import type pg from 'pg';
import { uuidParam } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import { notFound } from '../lib/errors.js';
import { openTradesOfStrategy } from './trade-store.js';
import type { WatchedTrade } from './trigger-book.js';

/** Last known prices of pairs (from this process's monitor, or shared through Redis). */
export type PriceLookup = (pairs: string[]) => Promise<Map<string, { last: number; at: number }>>;

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** Distance of `level` from `last`, in % of `last`, signed so that positive = not reached yet. */
export function distancePct(direction: 'LONG' | 'SHORT', kind: 'STOP_LOSS' | 'TAKE_PROFIT', level: number | null, last: number | undefined): number | null {
  if (level === null || last === undefined) return null;
  const below = (direction === 'LONG') === (kind === 'STOP_LOSS'); // the level sits under the price
  return round(((below ? last - level : level - last) / last) * 100);
}

function view(t: WatchedTrade, price: { last: number; at: number } | undefined, watched: boolean) {
  return {
    tradeId: t.id, pair: t.pair, direction: t.direction, entryPrice: t.entryPrice, stopLoss: t.stopLoss, takeProfit: t.takeProfit,
    openSeq: t.openSeq, openedAt: new Date(t.openedAt).toISOString(), monitored: watched,
    lastPrice: price?.last ?? null, priceAt: price ? new Date(price.at).toISOString() : null,
    distanceToStopLossPct: distancePct(t.direction, 'STOP_LOSS', t.stopLoss, price?.last),
    distanceToTakeProfitPct: distancePct(t.direction, 'TAKE_PROFIT', t.takeProfit, price?.last),
  };
}

export function monitorRoutes(deps: { pool: pg.Pool; prices: PriceLookup; exchange: string }): Router {
  const r = Router();
  r.get('/api/monitor/strategies/:id/open-trades', wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const trades = await openTradesOfStrategy(deps.pool, id);
    if (!trades) throw notFound('strategy');
    const prices = await deps.prices([...new Set(trades.map((t) => t.pair))]);
    res.json({
      strategyId: id, exchange: deps.exchange,
      trades: trades.map((t) => view(t, prices.get(t.pair), t.stopLoss !== null || t.takeProfit !== null)),
    });
  }));
  return r;
}

describeRoutes([
  { method: 'get', path: '/api/monitor/strategies/:id/open-trades', tag: 'monitor', auth: 'public', summary: 'Open trades with lastPrice, priceAt, distanceToStopLossPct, distanceToTakeProfitPct, monitored', responses: { 200: '{ strategyId, exchange, trades }', 404: 'STRATEGY_NOT_FOUND' } },
]);
