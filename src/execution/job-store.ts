/**
 * JobStore: claims PENDING ExecutionLog rows with FOR UPDATE SKIP LOCKED and a lease (the same statement
 * returns each row's subscription, signal and position), renews leases, records legs, and finishes a row
 * together with its Position change in one statement (FinishQueue, batched).
 * Every write is conditional on `lockedBy` = this worker, so a process that lost its lease writes nothing.
 * Rows of one (subscription, pair) are claimed strictly in seq order (an OPEN before its CLOSE).
 */
import type pg from 'pg';
import { FinishQueue } from './finish-queue.js';
import { DEFAULT_MAX_SLIPPAGE_PERCENT } from './sizing.js';
import type { Job, JobData, Legs, Outcome } from './types.js';

const CLAIM_SQL = `
WITH claimed AS (
  UPDATE "ExecutionLog" e SET "lockedBy" = $1, "lockedUntil" = now() + make_interval(secs => $2::float8 / 1000), attempts = e.attempts + 1
  WHERE e.id IN (
    SELECT c.id FROM "ExecutionLog" c
    WHERE c.status = 'PENDING' AND c."nextAttemptAt" <= now() AND (c."lockedUntil" IS NULL OR c."lockedUntil" < now())
      AND c.exchange = $4
      AND NOT EXISTS (SELECT 1 FROM "ExecutionLog" p WHERE p."subscriptionId" = c."subscriptionId" AND p.pair = c.pair AND p.seq < c.seq AND p.status = 'PENDING')
    ORDER BY c.seq, c."createdAt" LIMIT $3
    FOR UPDATE SKIP LOCKED)
  RETURNING e.id, e."userId", e."subscriptionId", e."signalId", e.exchange, e."clientOrderId", e.attempts, e.seq, e.pair, e.action, e.legs)
SELECT c.*,
  sub.id IS NOT NULL AS "hasSub", sub.status::text AS "subStatus", sub."keysInvalid", sub."strategyId", sub.sizing, sub.risk, sub."maxSlippagePercent", sub."apiKeyEnc", sub."apiSecretEnc",
  sub.market AS "subMarket", sub.leverage AS "subLeverage", sub."marginMode" AS "subMarginMode",
  s.id IS NOT NULL AS "hasSignal", s.action::text AS "sigAction", s.direction::text AS direction, s.price::text AS price, s."stopLoss"::text AS "stopLoss", s."takeProfit"::text AS "takeProfit", s."createdAt" AS "sigAt",
  p.qty::text AS "posQty", p."avgPrice"::text AS "posAvg", p."protectClientOrderId",
  p.market AS "posMarket", p.side AS "posSide", p."slClientOrderId", p."tpClientOrderId", p."openedAt" AS "posOpenedAt", p."entryFee"::text AS "posEntryFee",
  CASE WHEN jsonb_typeof(sub.risk) = 'object' AND sub.risk ? 'dailyLossLimit' THEN (
    SELECT COALESCE(SUM(x."realisedPnl"), 0)::float8 FROM "ExecutionLog" x
    WHERE x."subscriptionId" = c."subscriptionId" AND x."executedAt" >= date_trunc('day', now() AT TIME ZONE 'UTC')) END AS "todayPnl"
FROM claimed c
LEFT JOIN "Subscription" sub ON sub.id = c."subscriptionId"
LEFT JOIN "Signal" s ON s.id = c."signalId"
LEFT JOIN "Position" p ON p."subscriptionId" = c."subscriptionId" AND p.pair = c.pair`;

interface ClaimRow {
  id: string; userId: string; subscriptionId: string; signalId: string; exchange: string; clientOrderId: string; attempts: number; seq: string; pair: string; action: string; legs: Legs;
  hasSub: boolean; subStatus: string; keysInvalid: boolean; strategyId: string; sizing: unknown; risk: unknown; maxSlippagePercent: number | null; apiKeyEnc: string | null; apiSecretEnc: string | null;
  subMarket: string | null; subLeverage: number | null; subMarginMode: string | null;
  hasSignal: boolean; sigAction: string; direction: string; price: string; stopLoss: string | null; takeProfit: string | null; sigAt: Date | null;
  posQty: string | null; posAvg: string | null; protectClientOrderId: string | null; todayPnl: number | null;
  posMarket: string | null; posSide: string | null; slClientOrderId: string | null; tpClientOrderId: string | null; posOpenedAt: Date | null; posEntryFee: string | null;
}

const num = (v: string | null) => (v === null ? null : Number(v));

function jobData(x: ClaimRow): JobData {
  return {
    sub: x.hasSub ? { status: x.subStatus, keysInvalid: x.keysInvalid, strategyId: x.strategyId, sizing: x.sizing, risk: x.risk, maxSlippagePercent: Number(x.maxSlippagePercent ?? DEFAULT_MAX_SLIPPAGE_PERCENT), apiKeyEnc: x.apiKeyEnc, apiSecretEnc: x.apiSecretEnc,
      market: x.subMarket ?? 'spot', leverage: Number(x.subLeverage ?? 1), marginMode: x.subMarginMode ?? 'isolated' } : null,
    signal: x.hasSignal ? { action: x.sigAction === 'CLOSE' ? 'CLOSE' : 'OPEN', direction: x.direction, price: Number(x.price), stopLoss: num(x.stopLoss), takeProfit: num(x.takeProfit), acceptedAt: x.sigAt ? x.sigAt.getTime() : 0 } : null,
    position: x.posQty === null ? null : {
      qty: Number(x.posQty), avgPrice: Number(x.posAvg), protectClientOrderId: x.protectClientOrderId, market: x.posMarket ?? 'spot', side: x.posSide === 'short' ? 'short' : 'long',
      slClientOrderId: x.slClientOrderId, tpClientOrderId: x.tpClientOrderId, openedAt: x.posOpenedAt ? x.posOpenedAt.getTime() : 0, entryFee: Number(x.posEntryFee ?? 0),
    },
    todayPnl: x.todayPnl === null ? null : Number(x.todayPnl),
  };
}

export class JobStore {
  private readonly finishes: FinishQueue;

  constructor(private readonly pool: pg.Pool, readonly workerId: string, private readonly leaseMs: number, paper: boolean) {
    this.finishes = new FinishQueue(pool, workerId, paper);
  }

  /** Exchanges with rows ready to run. */
  async readyExchanges(): Promise<string[]> {
    const r = await this.pool.query<{ exchange: string }>(`SELECT DISTINCT exchange FROM "ExecutionLog" WHERE status = 'PENDING' AND "nextAttemptAt" <= now() AND ("lockedUntil" IS NULL OR "lockedUntil" < now())`);
    return r.rows.map((x) => x.exchange);
  }

  /** Claims up to `limit` ready rows of one exchange for this worker. */
  async claim(exchange: string, limit: number): Promise<Job[]> {
    const claimedAt = Date.now();
    const r = await this.pool.query<ClaimRow>({ name: 'executor-claim', text: CLAIM_SQL, values: [this.workerId, this.leaseMs, limit, exchange] });
    return r.rows.map((x) => ({
      id: x.id, userId: x.userId, subscriptionId: x.subscriptionId, signalId: x.signalId, exchange: x.exchange,
      clientOrderId: x.clientOrderId, attempts: x.attempts, seq: Number(x.seq), pair: x.pair, action: x.action === 'CLOSE' ? 'CLOSE' : 'OPEN',
      legs: x.legs ?? {}, leaseUntil: claimedAt + this.leaseMs, claimedAt, data: jobData(x),
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

  /** Final status + position change, atomically (batched with other finishing rows). False when the lease was lost (nothing written). */
  finish(job: Job, o: Outcome): Promise<boolean> {
    return this.finishes.finish(job, o);
  }

  /** Pending rows and the age (s) of the oldest ready one: the executor's lag. */
  async lag(): Promise<{ pending: number; lagSeconds: number }> {
    const r = await this.pool.query<{ n: string; age: number | null }>(
      `SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min("createdAt") FILTER (WHERE "nextAttemptAt" <= now()))::float8 AS age FROM "ExecutionLog" WHERE status = 'PENDING'`);
    return { pending: Number(r.rows[0]?.n ?? 0), lagSeconds: Number(r.rows[0]?.age ?? 0) };
  }
}
