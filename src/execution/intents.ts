/**
 * Intents: the executor's cursor over the signal log. Signal.seq is gapless and commits in order, so
 * "every signal with seq <= ExecutorCursor.lastSeq has its ExecutionLog rows" is kept by inserting
 * the PENDING rows and advancing the cursor in one transaction. One process at a time advances it
 * (row lock, SKIP LOCKED); a crash rolls both back, and the next advance redoes them.
 *
 * Who gets a row: the subscriptions module's matching rule (EXECUTES_SQL, stated in
 * src/subscriptions/matching.ts): subscriptions of the signal's strategy that hold keys and are ACTIVE on
 * that pair, and for a CLOSE also those still holding a position on the pair or an unfinished row there.
 */
import type pg from 'pg';
import { EXECUTES_SQL } from '../subscriptions/index.js';
import { CLIENT_ORDER_ID_SQL } from './ids.js';

const INSERT_SQL = `
INSERT INTO "ExecutionLog" (id, "userId", "subscriptionId", "signalId", exchange, "orderType", "clientOrderId", status, seq, pair, action, "nextAttemptAt", "createdAt")
SELECT gen_random_uuid(), sub."userId", sub.id, s.id, sub.exchange, 'market', ${CLIENT_ORDER_ID_SQL}, 'PENDING', s.seq, s.pair, s.action::text, now(), now()
FROM "Signal" s JOIN "Subscription" sub ON sub."strategyId" = s."strategyId"
WHERE s.seq > $1 AND s.seq <= $2 AND ${EXECUTES_SQL}
ON CONFLICT DO NOTHING`;

export class IntentWriter {
  constructor(private readonly pool: pg.Pool, private readonly batchSignals = 200) {}

  /** Creates the cursor at the current end of the log if it does not exist yet. */
  async init(): Promise<void> {
    await this.pool.query(`INSERT INTO "ExecutorCursor" (id, "lastSeq") SELECT 1, COALESCE((SELECT value FROM "SeqCounter" WHERE id = 1), 0) ON CONFLICT (id) DO NOTHING`);
  }

  /**
   * Inserts intents for the next batch of signals after the cursor and advances it.
   * Returns { signals, rows } done; signals = 0 when up to date or another process holds the cursor.
   */
  async advance(): Promise<{ signals: number; rows: number }> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const cur = await c.query<{ lastSeq: string }>(`SELECT "lastSeq" FROM "ExecutorCursor" WHERE id = 1 FOR UPDATE SKIP LOCKED`);
      if (!cur.rows[0]) { await c.query('ROLLBACK'); return { signals: 0, rows: 0 }; }
      const from = cur.rows[0].lastSeq;
      const next = await c.query<{ seq: string }>(`SELECT seq FROM "Signal" WHERE seq > $1 ORDER BY seq LIMIT $2`, [from, this.batchSignals]);
      const to = next.rows.at(-1)?.seq;
      if (!to) { await c.query('ROLLBACK'); return { signals: 0, rows: 0 }; }
      const ins = await c.query(INSERT_SQL, [from, to]);
      await c.query(`UPDATE "ExecutorCursor" SET "lastSeq" = $1, "updatedAt" = now() WHERE id = 1`, [to]);
      await c.query('COMMIT');
      return { signals: next.rows.length, rows: ins.rowCount ?? 0 };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Signals accepted but not yet turned into intents. */
  async behind(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT COALESCE((SELECT value FROM "SeqCounter" WHERE id = 1), 0) - COALESCE((SELECT "lastSeq" FROM "ExecutorCursor" WHERE id = 1), 0) AS n`);
    return Number(r.rows[0]?.n ?? 0);
  }
}
