/**
 * Deriver: turns finished ExecutionLog rows into outbox rows, by cursor. The executor stamps
 * `executedAt = now()` (its statement's start) and commits a moment later, so a row may become visible
 * after rows with a later executedAt. The deriver therefore re-reads a window (NOTIFY_RESCAN_SECONDS)
 * behind its cursor and skips rows already recorded in NotificationSource; recording the source rows,
 * queueing their outbox rows and advancing the cursor happen in ONE transaction, so a crash either
 * did all of it or none. One process derives at a time (transaction-level advisory lock). Rows of the futures
 * reconciliation have no signal: their strategy is the subscription's.
 */
import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { eventOfExecution, type ExecRow } from './events.js';
import { enqueue, type Recipient } from './outbox.js';

/** pg_advisory_xact_lock key of the deriver ("SMND"). */
const DERIVE_LOCK = 0x534d4e44;

const SELECT_SQL = `
SELECT e.id, e."userId", e."subscriptionId", e.status::text AS status, e.error, e.pair, e.side, e.action,
  e.amount::text AS amount, e.price::text AS price, e.exchange, e.paper, st.name AS "strategyName", st.id AS "strategyId",
  e."realisedPnl"::text AS "realisedPnl", g.source::text AS "signalSource", g.reason AS "signalReason",
  to_char(e."executedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, to_char(e."executedAt", 'YYYY-MM-DD') AS day,
  ns.events, COALESCE(ns."emailEnabled", false) AS "emailEnabled", ns."telegramChatId" IS NOT NULL AS telegram, ns."webhookUrl" IS NOT NULL AS webhook
FROM "ExecutionLog" e
JOIN "Subscription" sb ON sb.id = e."subscriptionId" JOIN "Strategy" st ON st.id = sb."strategyId"
LEFT JOIN "Signal" g ON g.id = e."signalId"
LEFT JOIN "NotificationSettings" ns ON ns."userId" = e."userId"
WHERE e."executedAt" > (SELECT position FROM "NotificationCursor" WHERE id = 'exec') - $1 * interval '1 millisecond'
  AND e.status <> 'PENDING'
  AND NOT EXISTS (SELECT 1 FROM "NotificationSource" n WHERE n.id = 'exec:' || e.id::text || ':' || e.status::text)
ORDER BY e."executedAt", e.id
LIMIT $2`;

type Row = ExecRow & Omit<Recipient, 'userId'>;

export class Deriver {
  constructor(private readonly pool: pg.Pool, private readonly opts: { rescanMs: number; batch?: number; log: Logger }) {}

  /** Creates the cursor at "now" on first start (history is not notified). */
  async init(): Promise<void> {
    await this.pool.query(`INSERT INTO "NotificationCursor" (id, position) VALUES ('exec', now()::timestamp(3)) ON CONFLICT (id) DO NOTHING`);
  }

  /** One pass: derives up to `batch` rows; returns how many source rows it recorded (0: nothing new or another process holds the lock). */
  async step(): Promise<{ sources: number; queued: number }> {
    const batch = this.opts.batch ?? 500;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [DERIVE_LOCK]);
      if (!lock.rows[0]!.ok) { await client.query('ROLLBACK'); return { sources: 0, queued: 0 }; }
      const rows = (await client.query<Row>(SELECT_SQL, [this.opts.rescanMs, batch])).rows;
      if (!rows.length) { await client.query('ROLLBACK'); return { sources: 0, queued: 0 }; }
      const queued = await enqueue(client, rows.map((r) => ({ recipient: { ...r, userId: r.userId }, event: eventOfExecution(r) })));
      const ids = rows.map((r) => r.id);
      await client.query(
        `INSERT INTO "NotificationSource" (id) SELECT 'exec:' || x.id || ':' || x.status FROM unnest($1::text[], $2::text[]) AS x(id, status) ON CONFLICT (id) DO NOTHING`,
        [ids, rows.map((r) => r.status)]);
      await client.query(
        `UPDATE "NotificationCursor" SET position = GREATEST(position, (SELECT max("executedAt") FROM "ExecutionLog" WHERE id = ANY($1::uuid[]))), "updatedAt" = now() WHERE id = 'exec'`,
        [ids]);
      await client.query('COMMIT');
      return { sources: rows.length, queued };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Forgets source records far behind the cursor (they can no longer fall inside the re-scan window),
   * delivered or dead outbox rows after 30 days (the delivery log's horizon) and spent link tokens.
   */
  async prune(): Promise<void> {
    await this.pool.query(`DELETE FROM "NotificationSource" WHERE "createdAt" < now() - interval '2 days'`);
    await this.pool.query(`DELETE FROM "NotificationOutbox" WHERE status IN ('sent', 'dead') AND "createdAt" < now() - interval '30 days'`);
    await this.pool.query(`DELETE FROM "TelegramLinkToken" WHERE "expiresAt" < now() - interval '1 day'`);
  }
}
