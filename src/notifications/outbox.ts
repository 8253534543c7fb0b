/**
 * The outbox in PostgreSQL: one row per (event, channel), unique on (eventId, channel) so deriving an
 * event twice never queues it twice. Workers claim due rows with FOR UPDATE SKIP LOCKED and a lease
 * (lockedBy/lockedUntil): two processes never hold one row at once; a crashed worker's rows come back
 * when its lease ends (at least once, same event id).
 */
import type pg from 'pg';
import { CHANNELS, eventsFor, type Channel, type NotificationEvent } from './events.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** A user's channel targets as the deriver sees them. */
export interface Recipient { userId: string; events: unknown; emailEnabled: boolean; telegram: boolean; webhook: boolean }

/** The channels of `r` that want `kind`. */
export function channelsFor(r: Recipient, kind: string): Channel[] {
  return CHANNELS.filter((c) => (c === 'telegram' ? r.telegram : c === 'email' ? r.emailEnabled : r.webhook) && eventsFor(r.events, c).has(kind));
}

/** Queues each (recipient, event) on the channels the recipient wants; returns the rows inserted. */
export async function enqueue(db: Queryable, items: { recipient: Recipient; event: NotificationEvent }[]): Promise<number> {
  const cols: string[][] = [[], [], [], [], []];
  for (const { recipient, event } of items) {
    for (const ch of channelsFor(recipient, event.kind)) {
      cols[0]!.push(event.eventId); cols[1]!.push(ch); cols[2]!.push(recipient.userId); cols[3]!.push(event.kind); cols[4]!.push(JSON.stringify(event.payload));
    }
  }
  if (!cols[0]!.length) return 0;
  const r = await db.query(
    `INSERT INTO "NotificationOutbox" ("eventId", channel, "userId", kind, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::jsonb[])
     ON CONFLICT ("eventId", channel) DO NOTHING`, cols);
  return r.rowCount ?? 0;
}

/** Recipients by user id, read from NotificationSettings (users without a row have no linked channel). */
export async function recipients(db: Queryable, userIds: string[]): Promise<Recipient[]> {
  if (!userIds.length) return [];
  const r = await db.query<Recipient>(
    `SELECT u.id AS "userId", ns.events, COALESCE(ns."emailEnabled", false) AS "emailEnabled",
       ns."telegramChatId" IS NOT NULL AS telegram, ns."webhookUrl" IS NOT NULL AS webhook
     FROM "User" u LEFT JOIN "NotificationSettings" ns ON ns."userId" = u.id WHERE u.id = ANY($1::uuid[])`, [userIds]);
  return r.rows;
}

export interface OutboxRow {
  id: string; eventId: string; channel: Channel; userId: string; kind: string; payload: Record<string, unknown>;
  attempts: number; createdAt: Date;
}

/** Claims up to `limit` due rows of `channel` for `workerId` until now + leaseMs. */
export async function claim(pool: pg.Pool, channel: Channel, workerId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const r = await pool.query<OutboxRow>(
    `WITH c AS (
       SELECT id FROM "NotificationOutbox"
       WHERE channel = $1 AND status IN ('pending', 'retrying') AND "nextAttemptAt" <= now()
         AND ("lockedUntil" IS NULL OR "lockedUntil" < now())
       ORDER BY "nextAttemptAt", "createdAt" LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE "NotificationOutbox" o SET "lockedBy" = $3, "lockedUntil" = now() + $4 * interval '1 millisecond', attempts = o.attempts + 1
     FROM c WHERE o.id = c.id
     RETURNING o.id, o."eventId", o.channel, o."userId", o.kind, o.payload, o.attempts, o."createdAt"`,
    [channel, limit, workerId, leaseMs]);
  return r.rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** Marks rows sent (only while this worker still holds them). */
export async function markSent(pool: pg.Pool, ids: string[], workerId: string): Promise<void> {
  if (!ids.length) return;
  await pool.query(
    `UPDATE "NotificationOutbox" SET status = 'sent', "sentAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL, "lastError" = NULL
     WHERE id = ANY($1::uuid[]) AND "lockedBy" = $2`, [ids, workerId]);
}

/**
 * A failed attempt: retried at now + delayMs, or `dead` once the row is older than maxAgeMs (or when
 * `dead` is set: a refusal that retrying cannot fix). Returns the rows that died.
 */
export async function markFailed(pool: pg.Pool, ids: string[], workerId: string, error: string, delayMs: number, maxAgeMs: number, dead = false): Promise<number> {
  if (!ids.length) return 0;
  const r = await pool.query<{ status: string }>(
    `UPDATE "NotificationOutbox" SET
       status = CASE WHEN $5 OR "createdAt" + $4 * interval '1 millisecond' < now() + $3 * interval '1 millisecond' THEN 'dead' ELSE 'retrying' END,
       "nextAttemptAt" = now() + $3 * interval '1 millisecond', "lockedBy" = NULL, "lockedUntil" = NULL, "lastError" = left($6, 500)
     WHERE id = ANY($1::uuid[]) AND "lockedBy" = $2 RETURNING status`, [ids, workerId, Math.round(delayMs), maxAgeMs, dead, error]);
  return r.rows.filter((x) => x.status === 'dead').length;
}

/** Gives rows back untouched (not an attempt): due again at now + delayMs. */
export async function release(pool: pg.Pool, ids: string[], workerId: string, delayMs: number): Promise<void> {
  if (!ids.length) return;
  await pool.query(
    `UPDATE "NotificationOutbox" SET "nextAttemptAt" = now() + $3 * interval '1 millisecond', "lockedBy" = NULL, "lockedUntil" = NULL, attempts = GREATEST(attempts - 1, 0)
     WHERE id = ANY($1::uuid[]) AND "lockedBy" = $2`, [ids, workerId, Math.round(delayMs)]);
}
