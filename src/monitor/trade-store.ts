/**
 * The monitor's reads from PostgreSQL (raw pg on the app pool).
 * - `loadOpenTrades`: every ACTIVE trade with a stop loss or take profit, and the seq they are
 *   consistent with, read in one REPEATABLE READ snapshot.
 *   The monitor follows the signal log from that seq with a SignalLogFollower (src/signals).
 * - `openTradesOfStrategy`: for the distance route (any process, no in-memory book needed).
 */
import type pg from 'pg';
import { toActiveTrade, type ActiveTrade, type TradeRowLike } from '../signals/index.js';
import type { WatchedTrade } from './trigger-book.js';

/** An open trade as the book watches it (rows are mapped by the signals module's one trade mapper first). */
export const watched = (t: ActiveTrade): WatchedTrade => ({
  id: t.id, strategyId: t.strategyId, pair: t.pair, direction: t.direction, entryPrice: t.entryPrice,
  stopLoss: t.stopLoss, takeProfit: t.takeProfit, openSeq: t.openSeq, openedAt: Date.parse(t.openedAt),
});

/** Every watchable open trade plus the seq the snapshot covers. */
export async function loadOpenTrades(pool: pg.Pool): Promise<{ cursor: number; trades: WatchedTrade[] }> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: [counter] } = await c.query<{ value: string }>(`SELECT value FROM "SeqCounter" WHERE id = 1`);
    const { rows } = await c.query<{ t: TradeRowLike }>(`SELECT row_to_json(t) AS t FROM "Trade" t
      WHERE t.status = 'ACTIVE' AND (t."stopLoss" IS NOT NULL OR t."takeProfit" IS NOT NULL)`);
    await c.query('COMMIT');
    return { cursor: Number(counter?.value ?? 0), trades: rows.map((r) => watched(toActiveTrade(r.t))) };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Open trades of one strategy (null if the strategy does not exist). */
export async function openTradesOfStrategy(pool: pg.Pool, strategyId: string): Promise<WatchedTrade[] | null> {
  const { rows } = await pool.query<{ t: TradeRowLike | null }>(`
    SELECT row_to_json(t) AS t FROM "Strategy" s LEFT JOIN "Trade" t ON t."strategyId" = s.id AND t.status = 'ACTIVE'
    WHERE s.id = $1 ORDER BY t."openSeq"`, [strategyId]);
  if (!rows.length) return null;
  return rows.flatMap((r) => (r.t ? [watched(toActiveTrade(r.t))] : []));
}
