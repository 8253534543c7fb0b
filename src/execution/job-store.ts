/**
 * JobStore: claims PENDING ExecutionLog rows with FOR UPDATE SKIP LOCKED and a lease, renews leases,
 * records legs, and finishes a row together with its Position change in one transaction.
 * Every write is conditional on `lockedBy` = this worker, so a process that lost its lease writes nothing.
 * Rows of one (subscription, pair) are claimed strictly in seq order (an OPEN before its CLOSE).
 */
import type pg from 'pg';
import type { Job, Legs, Outcome } from './types.js';

const CLAIM_SQL = `
UPDATE "ExecutionLog" e SET "lockedBy" = $1, "lockedUntil" = now() + make_interval(secs => $2::float8 / 1000), attempts = e.attempts + 1
WHERE e.id IN (
  SELECT c.id FROM "ExecutionLog" c
  WHERE c.status = 'PENDING' AND c."nextAttemptAt" <= now() AND (c."lockedUntil" IS NULL OR c."lockedUntil" < now())
    AND c.exchange = $4
    AND NOT EXISTS (SELECT 1 FROM "ExecutionLog" p WHERE p."subscriptionId" = c."subscriptionId" AND p.pair = c.pair AND p.seq < c.seq AND p.status = 'PENDING')
  ORDER BY c.seq, c."createdAt" LIMIT $3
  FOR UPDATE SKIP LOCKED)
RETURNING e.id, e."userId", e."subscriptionId", e."signalId", e.exchange, e."clientOrderId", e.attempts, e.seq, e.pair, e.action, e.legs`;

interface ClaimRow { id: string; userId: string; subscriptionId: string; signalId: string; exchange: string; clientOrderId: string; attempts: number; seq: string; pair: string; action: string; legs: Legs }

export class JobStore {
  constructor(private readonly pool: pg.Pool, readonly workerId: string, private readonly leaseMs: number) {}

  /** Exchanges with rows ready to run. */
  async readyExchanges(): Promise<string[]> {
    const r = await this.pool.query<{ exchange: string }>(`SELECT DISTINCT exchange FROM "ExecutionLog" WHERE status = 'PENDING' AND "nextAttemptAt" <= now() AND ("lockedUntil" IS NULL OR "lockedUntil" < now())`);
    return r.rows.map((x) => x.exchange);
  }

  /** Claims up to `limit` ready rows of one exchange for this worker. */
  async claim(exchange: string, limit: number): Promise<Job[]> {
    const claimedAt = Date.now();
    const r = await this.pool.query<ClaimRow>(CLAIM_SQL, [this.workerId, this.leaseMs, limit, exchange]);
    return r.rows.map((x) => ({
      id: x.id, userId: x.userId, subscriptionId: x.subscriptionId, signalId: x.signalId, exchange: x.exchange,
      clientOrderId: x.clientOrderId, attempts: x.attempts, seq: Number(x.seq), pair: x.pair, action: x.action === 'CLOSE' ? 'CLOSE' : 'OPEN',
      legs: x.legs ?? {}, leaseUntil: claimedAt + this.leaseMs, claimedAt,
    }));
  }

  /** Extends the lease of the given rows; returns the ids still held. */
  async renew(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const r = await this.pool.query<{ id: string }>(
      `UPDATE "ExecutionLog" SET "lockedUntil" = now() + make_interval(secs => $2::float8 / 1000) WHERE id = ANY($1::uuid[]) AND "lockedBy" = $3 AND status = 'PENDING' RETURNING id`,
      [ids, this.leaseMs, this.workerId]);
    return new Set(r.rows.map((x) => x.id));
  }

  /** Persists the legs (an order the exchange confirmed) before anything else is sent. */
  async saveLegs(job: Job): Promise<boolean> {
    const r = await this.pool.query(`UPDATE "ExecutionLog" SET legs = $2 WHERE id = $1 AND "lockedBy" = $3 AND status = 'PENDING'`, [job.id, JSON.stringify(job.legs), this.workerId]);
    return r.rowCount === 1;
  }

  /** Gives the row back for a later attempt (after `delayMs`), recording why. */
  async retryLater(job: Job, delayMs: number, error: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE "ExecutionLog" SET legs = $2, error = $3, "nextAttemptAt" = now() + make_interval(secs => $4::float8 / 1000), "lockedBy" = NULL, "lockedUntil" = NULL
       WHERE id = $1 AND "lockedBy" = $5 AND status = 'PENDING'`,
      [job.id, JSON.stringify(job.legs), error.slice(0, 2000), delayMs, this.workerId]);
    return r.rowCount === 1;
  }

  /** Final status + position change, atomically. False when the lease was lost (nothing written). */
  async finish(job: Job, o: Outcome, paper: boolean): Promise<boolean> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await c.query(
        `UPDATE "ExecutionLog" SET status = $2::"ExecutionStatus", error = $3, side = $4, amount = $5, price = $6, "orderId" = $7, "exchangeResponse" = $8,
           paper = $9, legs = $10, "realisedPnl" = $11, "executedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL
         WHERE id = $1 AND "lockedBy" = $12 AND status = 'PENDING'`,
        [job.id, o.status, o.error?.slice(0, 2000) ?? null, o.side ?? null, o.amount ?? null, o.price ?? null, o.orderId ?? null,
          o.response === undefined ? null : JSON.stringify(o.response), paper, JSON.stringify(job.legs), o.realisedPnl ?? null, this.workerId]);
      if (r.rowCount !== 1) { await c.query('ROLLBACK'); return false; }
      await this.applyPosition(c, job, o);
      await c.query('COMMIT');
      return true;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async applyPosition(c: pg.PoolClient, job: Job, o: Outcome): Promise<void> {
    const p = o.position;
    if (!p) return;
    if (p.kind === 'close') {
      await c.query(`DELETE FROM "Position" WHERE "subscriptionId" = $1 AND pair = $2`, [job.subscriptionId, job.pair]);
      return;
    }
    await c.query(
      `INSERT INTO "Position" (id, "subscriptionId", "strategyId", pair, qty, "avgPrice", "protectClientOrderId", "openSignalId", paper, "updatedAt")
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT ("subscriptionId", pair) DO UPDATE SET
         "avgPrice" = ("Position".qty * "Position"."avgPrice" + EXCLUDED.qty * EXCLUDED."avgPrice") / NULLIF("Position".qty + EXCLUDED.qty, 0),
         qty = "Position".qty + EXCLUDED.qty, "protectClientOrderId" = EXCLUDED."protectClientOrderId", "openSignalId" = EXCLUDED."openSignalId", "updatedAt" = now()`,
      [job.subscriptionId, p.strategyId, job.pair, p.qty, p.price, p.protectClientOrderId, job.signalId, p.paper]);
  }

  /** Pending rows and the age (s) of the oldest ready one: the executor's lag. */
  async lag(): Promise<{ pending: number; lagSeconds: number }> {
    const r = await this.pool.query<{ n: string; age: number | null }>(
      `SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min("createdAt") FILTER (WHERE "nextAttemptAt" <= now()))::float8 AS age FROM "ExecutionLog" WHERE status = 'PENDING'`);
    return { pending: Number(r.rows[0]?.n ?? 0), lagSeconds: Number(r.rows[0]?.age ?? 0) };
  }
}
