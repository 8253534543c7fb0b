/**
 * Track records as the marketplace publishes them: statistics of each strategy's completed trades
 * (Trade table), active subscriber counts, and for one strategy its equity curve and first signal date.
 * Every figure is a live result from published signals (never a backtest); the label says so.
 */
import type { PrismaClient } from '@prisma/client';
import { equityCurve, trackStats, type EquityPoint, type TrackStats } from './stats.js';

/** Shown with every track record. */
export const TRACK_RECORD_BASIS = 'Live results from published signals (not a backtest)';

/** Stats and subscriber counts of several strategies, as a lookup by id. */
export async function trackRecords(prisma: PrismaClient, ids: string[]): Promise<(id: string) => { stats: TrackStats; subscribers: number }> {
  const rows = await prisma.trade.findMany({ where: { strategyId: { in: ids }, status: 'COMPLETED' }, orderBy: { closeSeq: 'asc' }, select: { strategyId: true, pnlPct: true } });
  const by = new Map<string, number[]>(ids.map((id) => [id, []]));
  for (const t of rows) by.get(t.strategyId)!.push(Number(t.pnlPct));
  const subs = await prisma.subscription.groupBy({ by: ['strategyId'], where: { strategyId: { in: ids }, status: 'ACTIVE' }, _count: true });
  const subCount = new Map(subs.map((s) => [s.strategyId, s._count]));
  return (id: string) => ({ stats: trackStats(by.get(id) ?? []), subscribers: subCount.get(id) ?? 0 });
}

/** The equity curve (100 = start, compounded) and the first signal's date of one strategy. */
export async function trackRecordDetail(prisma: PrismaClient, id: string): Promise<{ basis: string; firstSignalAt: string | null; equityCurve: EquityPoint[] }> {
  const trades = await prisma.trade.findMany({ where: { strategyId: id, status: 'COMPLETED' }, orderBy: { closeSeq: 'asc' }, select: { closedAt: true, pnlPct: true } });
  const first = await prisma.signal.findFirst({ where: { strategyId: id }, orderBy: { seq: 'asc' }, select: { createdAt: true } });
  return {
    basis: TRACK_RECORD_BASIS,
    firstSignalAt: first?.createdAt.toISOString() ?? null,
    equityCurve: equityCurve(trades.map((t) => ({ closedAt: t.closedAt!, pnlPct: Number(t.pnlPct) }))),
  };
}
