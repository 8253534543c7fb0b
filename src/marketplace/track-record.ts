/**
 * Track records as the marketplace publishes them: statistics of each strategy's completed trades
 * (Trade table), active subscriber counts, and for one strategy its equity curve, recent closed trades
 * and first signal date. Every figure is a live result from published signals (never a backtest).
 *
 * Prices: a trade's PnL is computed from the reference market's prices at its two signals
 * (`Trade.entryMarketPrice` / `exitMarketPrice`, copied from `Signal.marketPrice` at acceptance), never
 * from the prices the author declared. A trade with a leg whose price could not be verified (no market
 * price at hand) is left out of the statistics and the equity curve and counted apart as "price not
 * verified": an author cannot build a record from prices of their own choosing. The declared prices stay
 * visible beside the market prices in the trade lists.
 */
import type { Prisma, PrismaClient, Trade } from '@prisma/client';
import { pnlPct, type Direction } from '../signals/index.js';
import { equityCurve, monthlyReturns, trackStats, type EquityPoint, type MonthlyReturn, type TrackStats } from './stats.js';

/** Shown with every track record. */
export const TRACK_RECORD_BASIS = 'Live results from published signals at the reference market\'s prices (not a backtest)';

/** How many recent closed trades the strategy detail lists. */
const RECENT_CLOSED = 100;

type Dec = Prisma.Decimal | null;
const num = (d: Dec): number | null => (d === null ? null : Number(d.toString()));

/** How much of a strategy's history has market-verified prices. */
export interface PriceVerification {
  /** Signals of the strategy. */
  signals: number;
  /** Signals stored with the reference market's price (`marketPrice` not null). */
  verifiedSignals: number;
  /** Completed trades whose entry and exit both have a market price: the ones the statistics count. */
  verifiedTrades: number;
  /** Completed trades with a leg without a market price: listed as "price not verified", not counted. */
  unverifiedTrades: number;
}

/** What the list and the detail show for every strategy. */
export interface TrackRecord {
  /** Statistics of the verified trades only, from market prices. */
  stats: TrackStats;
  subscribers: number;
  /** verifiedSignals / signals, 0..1 (4 decimals); null for a strategy without signals. */
  verifiedShare: number | null;
  priceVerification: PriceVerification;
}

/** A closed trade as the strategy page lists it: declared and market prices side by side. */
export interface ClosedTradeView {
  id: string; pair: string; direction: Direction;
  entryPrice: number; entryMarketPrice: number | null; exitPrice: number; exitMarketPrice: number | null;
  /** From market prices; null when a leg is not verified. */
  pnlPct: number | null;
  /** From the author's declared prices, for comparison only. */
  declaredPnlPct: number | null;
  verified: boolean;
  closeReason: string | null; openedAt: string; closedAt: string;
  /** closedAt - openedAt, in seconds. */
  durationSeconds: number;
}

/** PnL % of a trade at market prices, or null when either leg has no market price. */
export function marketPnlPct(t: { direction: Direction; entryMarketPrice: Dec; exitMarketPrice: Dec }): number | null {
  const entry = num(t.entryMarketPrice);
  const exit = num(t.exitMarketPrice);
  return entry !== null && exit !== null && entry > 0 ? pnlPct(t.direction, entry, exit) : null;
}

/** verified / total as a 0..1 share (4 decimals); null when total is 0. */
export const share = (verified: number, total: number): number | null => (total ? Math.round((verified / total) * 10_000) / 10_000 : null);

/** Track records of several strategies, as a lookup by id. */
export async function trackRecords(prisma: PrismaClient, ids: string[]): Promise<(id: string) => TrackRecord> {
  const [rows, subs, signalCounts] = await Promise.all([
    prisma.trade.findMany({ where: { strategyId: { in: ids }, status: 'COMPLETED' }, orderBy: { closeSeq: 'asc' }, select: { strategyId: true, direction: true, entryMarketPrice: true, exitMarketPrice: true } }),
    prisma.subscription.groupBy({ by: ['strategyId'], where: { strategyId: { in: ids }, status: 'ACTIVE' }, _count: true }),
    // _count of a column counts its non-null values: the signals with a market price.
    prisma.signal.groupBy({ by: ['strategyId'], where: { strategyId: { in: ids } }, _count: { _all: true, marketPrice: true } }),
  ]);
  const pnls = new Map<string, number[]>(ids.map((id) => [id, []]));
  const unverified = new Map<string, number>();
  for (const t of rows) {
    const p = marketPnlPct(t);
    if (p === null) unverified.set(t.strategyId, (unverified.get(t.strategyId) ?? 0) + 1);
    else pnls.get(t.strategyId)!.push(p);
  }
  const subCount = new Map(subs.map((s) => [s.strategyId, s._count]));
  const sigCount = new Map(signalCounts.map((s) => [s.strategyId, s._count]));
  return (id: string) => {
    const verifiedPnls = pnls.get(id) ?? [];
    const sc = sigCount.get(id);
    const priceVerification: PriceVerification = {
      signals: sc?._all ?? 0, verifiedSignals: sc?.marketPrice ?? 0,
      verifiedTrades: verifiedPnls.length, unverifiedTrades: unverified.get(id) ?? 0,
    };
    return {
      stats: trackStats(verifiedPnls), subscribers: subCount.get(id) ?? 0,
      verifiedShare: share(priceVerification.verifiedSignals, priceVerification.signals), priceVerification,
    };
  };
}

/** A completed trade row as the strategy page lists it. */
export function closedTradeView(t: Trade): ClosedTradeView {
  const pnl = marketPnlPct(t);
  return {
    id: t.id, pair: t.pair, direction: t.direction,
    entryPrice: num(t.entryPrice)!, entryMarketPrice: num(t.entryMarketPrice), exitPrice: num(t.exitPrice)!, exitMarketPrice: num(t.exitMarketPrice),
    pnlPct: pnl, declaredPnlPct: num(t.pnlPct), verified: pnl !== null,
    closeReason: t.closeReason, openedAt: t.openedAt.toISOString(), closedAt: t.closedAt!.toISOString(),
    durationSeconds: Math.round((t.closedAt!.getTime() - t.openedAt.getTime()) / 1000),
  };
}

/**
 * The equity curve and the monthly returns of the verified trades (100 = start, compounded, market
 * prices), the most recent closed trades (verified or not, declared beside market prices) and the first
 * signal's date of one strategy.
 */
export async function trackRecordDetail(prisma: PrismaClient, id: string): Promise<{ basis: string; firstSignalAt: string | null; equityCurve: EquityPoint[]; monthlyReturns: MonthlyReturn[]; closedTrades: ClosedTradeView[] }> {
  const [trades, recent, first] = await Promise.all([
    prisma.trade.findMany({ where: { strategyId: id, status: 'COMPLETED', entryMarketPrice: { not: null }, exitMarketPrice: { not: null } }, orderBy: { closeSeq: 'asc' }, select: { closedAt: true, direction: true, entryMarketPrice: true, exitMarketPrice: true } }),
    prisma.trade.findMany({ where: { strategyId: id, status: 'COMPLETED' }, orderBy: { closeSeq: 'desc' }, take: RECENT_CLOSED }),
    prisma.signal.findFirst({ where: { strategyId: id }, orderBy: { seq: 'asc' }, select: { createdAt: true } }),
  ]);
  const points = trades.flatMap((t) => { const p = marketPnlPct(t); return p === null ? [] : [{ closedAt: t.closedAt!, pnlPct: p }]; });
  return {
    basis: TRACK_RECORD_BASIS,
    firstSignalAt: first?.createdAt.toISOString() ?? null,
    equityCurve: equityCurve(points),
    monthlyReturns: monthlyReturns(points),
    closedTrades: recent.map(closedTradeView),
  };
}
