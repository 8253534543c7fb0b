/**
 * The monitor's reads from PostgreSQL (raw pg on the app pool).
 * - `loadOpenTrades`: every ACTIVE trade with a stop loss or take profit, and the seq they are
 *   consistent with, read in one REPEATABLE READ snapshot.
 * - `changesSince(cursor)`: the signals after `cursor` in seq order (OPENs with their trade if it is
 *   still ACTIVE, CLOSEs). Because `seq` is gapless and commit-ordered, the committed signals always
 *   form a prefix, so a seq cursor never skips one: this is the reconcile that makes up for the bus
 *   being at-most-once.
 * - `openTradesOfStrategy`: for the distance route (any process, no in-memory book needed).
 */
import type pg from 'pg';
import type { WatchedTrade } from './trigger-book.js';

const TRADE_COLUMNS = `t.id, t."strategyId", t.pair, t.direction, t."entryPrice"::float8 AS "entryPrice",
  t."stopLoss"::float8 AS "stopLoss", t."takeProfit"::float8 AS "takeProfit", t."openSeq"::float8 AS "openSeq",
  (EXTRACT(EPOCH FROM t."openedAt") * 1000)::float8 AS "openedAt"`;

/** One signal after the cursor; `trade` is set for an OPEN whose trade is still ACTIVE. */
export interface SignalChange { seq: number; action: 'OPEN' | 'CLOSE'; strategyId: string; pair: string; trade: WatchedTrade | null }

/** Every watchable open trade plus the seq the snapshot covers. */
export async function loadOpenTrades(pool: pg.Pool): Promise<{ cursor: number; trades: WatchedTrade[] }> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: [counter] } = await c.query<{ value: string }>(`SELECT value FROM "SeqCounter" WHERE id = 1`);
    const { rows } = await c.query<WatchedTrade>(`SELECT ${TRADE_COLUMNS} FROM "Trade" t
      WHERE t.status = 'ACTIVE' AND (t."stopLoss" IS NOT NULL OR t."takeProfit" IS NOT NULL)`);
    await c.query('COMMIT');
    return { cursor: Number(counter?.value ?? 0), trades: rows };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** Up to `limit` signals with seq > `cursor`, in seq order. */
export async function changesSince(pool: pg.Pool, cursor: number, limit: number): Promise<SignalChange[]> {
  const { rows } = await pool.query<{ seq: string; action: 'OPEN' | 'CLOSE'; strategyId: string; pair: string; trade: WatchedTrade | null }>(`
    SELECT s.seq, s.action, s."strategyId", s.pair,
      (SELECT row_to_json(x) FROM (SELECT ${TRADE_COLUMNS} FROM "Trade" t
         WHERE s.action = 'OPEN' AND t."strategyId" = s."strategyId" AND t.pair = s.pair AND t.status = 'ACTIVE' AND t."openSeq" = s.seq) x) AS trade
    FROM "Signal" s WHERE s.seq > $1 ORDER BY s.seq LIMIT $2`, [cursor, limit]);
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Open trades of one strategy (null if the strategy does not exist). */
export async function openTradesOfStrategy(pool: pg.Pool, strategyId: string): Promise<WatchedTrade[] | null> {
  const { rows } = await pool.query<WatchedTrade>(`
    SELECT ${TRADE_COLUMNS} FROM "Strategy" s LEFT JOIN "Trade" t ON t."strategyId" = s.id AND t.status = 'ACTIVE'
    WHERE s.id = $1 ORDER BY t."openSeq"`, [strategyId]);
  if (!rows.length) return null;
  return rows.filter((r) => r.id !== null);
}
