/**
 * The reconciliation's database side. Claims the futures positions due for a check (a conditional UPDATE of
 * checkedAt: two executor processes never poll the same position in one period) and records what the exchange
 * did, each record in ONE statement that changes the Position and inserts its ExecutionLog row together, on
 * three conditions that make it exactly-once:
 *  - the position is still the one that was read (same id, qty and updatedAt): a second poller, or a restart
 *    that reads it again after the first committed, finds it gone or changed and writes nothing;
 *  - no execution of the subscription and pair is PENDING: an order of ours in flight (an entry not yet
 *    recorded, our own CLOSE) is not mistaken for the user's or the exchange's doing; the next poll decides;
 *  - the row's clientOrderId is deterministic ('rc' + hash of the position and the event), unique in the
 *    table: ON CONFLICT DO NOTHING.
 * Reconciler rows have no signal (signalId NULL); `action` says what closed the position.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

/** A futures position as the claim reads it, with its subscription's sealed keys. */
export interface HeldPosition {
  id: string; subscriptionId: string; userId: string; exchange: string; pair: string; side: 'long' | 'short';
  qty: number; avgPrice: number; slClientOrderId: string | null; tpClientOrderId: string | null; entryFee: number;
  /** Trigger levels (paper positions fire at them: they have no orders). */
  stopLoss: number | null; takeProfit: number | null;
  /** Epoch ms. */
  openedAt: number; updatedAt: number;
  /** updatedAt and qty exactly as stored: the record's optimistic check. */
  version: string; qtyText: string;
  apiKeyEnc: string | null; apiSecretEnc: string | null;
}

export type ReconcileAction = 'STOP_LOSS' | 'TAKE_PROFIT' | 'LIQUIDATION' | 'CLOSED_ON_EXCHANGE' | 'RECONCILE_MISMATCH';

/** One ExecutionLog row of the reconciliation. */
export interface ReconcileRecord {
  action: ReconcileAction;
  status: 'SUCCESS' | 'FAILED';
  side: 'buy' | 'sell' | null;
  amount: number | null;
  price: number | null;
  orderId: string | null;
  realisedPnl: number | null;
  /** "RECONCILE_MISMATCH: …" on a mismatch; null on a close. */
  error: string | null;
  response: unknown;
  /** What makes the event unique for its position (e.g. 'close', 'reduce:0.02', 'mismatch:short:0.05'). */
  event: string;
}

/** Live positions: their subscription has keys the venue has not refused. Paper ones: a level to fire at the market price. */
const LIVE = `NOT p.paper AND s."apiKeyEnc" IS NOT NULL AND NOT s."keysInvalid"`;
const PAPER = `p.paper AND (p."stopLoss" IS NOT NULL OR p."takeProfit" IS NOT NULL)`;
const claimSql = (which: string) => `
UPDATE "Position" p SET "checkedAt" = now()
FROM "Subscription" s
WHERE s.id = p."subscriptionId" AND p.market = 'futures' AND ${which}
  AND (p."checkedAt" IS NULL OR p."checkedAt" <= now() - make_interval(secs => $1::float8 / 1000))
RETURNING p.id, p."subscriptionId", s."userId", s.exchange, p.pair, p.side, p.qty::text AS qty, p."avgPrice"::text AS "avgPrice",
  p."slClientOrderId", p."tpClientOrderId", COALESCE(p."entryFee", 0)::float8 AS "entryFee", p."stopLoss"::float8 AS "stopLoss", p."takeProfit"::float8 AS "takeProfit",
  (extract(epoch FROM p."openedAt") * 1000)::float8 AS "openedAt", (extract(epoch FROM p."updatedAt") * 1000)::float8 AS "updatedAt",
  p."updatedAt"::text AS version, s."apiKeyEnc", s."apiSecretEnc"`;
const CLAIM_SQL = claimSql(LIVE);
const PAPER_CLAIM_SQL = claimSql(PAPER);

const NO_PENDING = `NOT EXISTS (SELECT 1 FROM "ExecutionLog" e WHERE e."subscriptionId" = p."subscriptionId" AND e.pair = p.pair AND e.status = 'PENDING')`;
const SAME = `p.id = $1 AND p.qty = $2::numeric AND p."updatedAt" = $3::timestamp AND ${NO_PENDING}`;
const INSERT = `INSERT INTO "ExecutionLog" (id, "userId", "subscriptionId", "signalId", exchange, "orderType", side, amount, price, "orderId",
  "clientOrderId", status, error, "exchangeResponse", paper, pair, action, "realisedPnl", "executedAt")`;
/** $4.. : userId, exchange, side, amount, price, orderId, clientOrderId, status, error, response, action, pnl. */
const VALUES = `$4::uuid, x."subscriptionId", NULL, $5, 'reconcile', $6, $7::numeric, $8::numeric, $9, $10, $11::"ExecutionStatus", $12, $13::jsonb, x.paper, x.pair, $14, $15::numeric, now()`;

const CLOSE_SQL = `WITH x AS (DELETE FROM "Position" p WHERE ${SAME} RETURNING p."subscriptionId", p.pair, p.paper)
${INSERT} SELECT gen_random_uuid(), ${VALUES} FROM x ON CONFLICT ("clientOrderId") DO NOTHING RETURNING id`;
const REDUCE_SQL = `WITH x AS (UPDATE "Position" p SET qty = $16::numeric, "updatedAt" = now() WHERE ${SAME} RETURNING p."subscriptionId", p.pair, p.paper)
${INSERT} SELECT gen_random_uuid(), ${VALUES} FROM x ON CONFLICT ("clientOrderId") DO NOTHING RETURNING id`;
/**
 * $16 (or NULL): what the exchange holds when it is more than we read; recorded only if all the futures Positions
 * of the user on this venue, pair and side (some may not have been read in this poll) hold less together.
 */
const MISMATCH_SQL = `WITH x AS (SELECT p."subscriptionId", p.pair, p.paper FROM "Position" p WHERE ${SAME}
  AND ($16::numeric IS NULL OR (SELECT COALESCE(sum(q.qty), 0) FROM "Position" q JOIN "Subscription" o ON o.id = q."subscriptionId"
    JOIN "Subscription" me ON me.id = p."subscriptionId"
    WHERE o."userId" = me."userId" AND o.exchange = me.exchange AND q.pair = p.pair AND q.side = p.side AND q.market = 'futures' AND NOT q.paper) < $16::numeric))
${INSERT} SELECT gen_random_uuid(), ${VALUES} FROM x ON CONFLICT ("clientOrderId") DO NOTHING RETURNING id`;
/** A protective order of a position that no longer rests: the Position forgets it ($16: 'sl' | 'tp'), the row says so. */
const GONE_SQL = `WITH x AS (UPDATE "Position" p SET "slClientOrderId" = CASE WHEN $16 = 'sl' THEN NULL ELSE p."slClientOrderId" END,
    "tpClientOrderId" = CASE WHEN $16 = 'tp' THEN NULL ELSE p."tpClientOrderId" END WHERE ${SAME} RETURNING p."subscriptionId", p.pair, p.paper)
${INSERT} SELECT gen_random_uuid(), ${VALUES} FROM x ON CONFLICT ("clientOrderId") DO NOTHING RETURNING id`;
/**
 * A position on the exchange no futures Position of the user on this venue explains (pair and side), with no
 * execution of the user on that venue and pair in flight. $1 subscription (the row's owner), $2 pair, $3 side.
 */
const UNKNOWN_SQL = `WITH x AS (SELECT s.id AS "subscriptionId", $2::text AS pair, false AS paper FROM "Subscription" s WHERE s.id = $1::uuid
  AND NOT EXISTS (SELECT 1 FROM "Position" p JOIN "Subscription" o ON o.id = p."subscriptionId"
    WHERE o."userId" = s."userId" AND o.exchange = s.exchange AND p.market = 'futures' AND p.pair = $2 AND p.side = $3)
  AND NOT EXISTS (SELECT 1 FROM "ExecutionLog" e WHERE e."userId" = s."userId" AND e.exchange = s.exchange AND e.pair = $2 AND e.status = 'PENDING'))
${INSERT} SELECT gen_random_uuid(), ${VALUES} FROM x ON CONFLICT ("clientOrderId") DO NOTHING RETURNING id`;

const str = (n: number | null) => (n === null || !Number.isFinite(n) ? null : String(n));

/** The deterministic clientOrderId of an event: 'rc' + 34 hex (the width of our order ids). */
export const reconcileId = (basis: string, event: string) => `rc${createHash('sha256').update(`${basis}|${event}`).digest('hex').slice(0, 34)}`;

interface ClaimRow extends Omit<HeldPosition, 'qty' | 'avgPrice' | 'qtyText' | 'side'> { qty: string; avgPrice: string; side: string }

export class ReconcileStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Live (or, `paper`, paper) futures positions not checked within `dueMs`, marked checked now. */
  async claimDue(dueMs: number, paper = false): Promise<HeldPosition[]> {
    const r = await this.pool.query<ClaimRow>({ name: paper ? 'reconcile-claim-paper' : 'reconcile-claim', text: paper ? PAPER_CLAIM_SQL : CLAIM_SQL, values: [dueMs] });
    return r.rows.map((x) => ({ ...x, side: x.side === 'short' ? 'short' : 'long', qty: Number(x.qty), qtyText: x.qty, avgPrice: Number(x.avgPrice) }));
  }

  private values(p: HeldPosition, rec: ReconcileRecord, basis: string): unknown[] {
    return [p.id, p.qtyText, p.version, p.userId, p.exchange, rec.side, str(rec.amount), str(rec.price), rec.orderId, reconcileId(basis, rec.event),
      rec.status, rec.error?.slice(0, 2000) ?? null, JSON.stringify(rec.response ?? null), rec.action, str(rec.realisedPnl)];
  }

  /** The liquidation prices the venue reports for positions that are as we hold them (written only when changed). */
  async saveLiquidationPrices(seen: { id: string; price: number }[]): Promise<void> {
    if (!seen.length) return;
    await this.pool.query(
      `UPDATE "Position" p SET "liquidationPrice" = v.l FROM unnest($1::uuid[], $2::numeric[]) AS v(id, l) WHERE p.id = v.id AND p."liquidationPrice" IS DISTINCT FROM v.l`,
      [seen.map((x) => x.id), seen.map((x) => String(x.price))]);
  }

  /** The exchange closed the position: delete it and record why. False when someone else already did (or it changed). */
  async recordClose(p: HeldPosition, rec: ReconcileRecord): Promise<boolean> {
    const r = await this.pool.query(CLOSE_SQL, this.values(p, rec, p.id));
    return r.rowCount === 1;
  }

  /** Part of the position was closed on the exchange: the quantity left is `qtyLeft`. */
  async recordReduce(p: HeldPosition, qtyLeft: number, rec: ReconcileRecord): Promise<boolean> {
    const r = await this.pool.query(REDUCE_SQL, [...this.values(p, rec, p.id), String(qtyLeft)]);
    return r.rowCount === 1;
  }

  /** A difference that nothing explains, recorded once per position and observation (`exchangeQty`: see MISMATCH_SQL). */
  async recordMismatch(p: HeldPosition, rec: ReconcileRecord, exchangeQty?: number): Promise<boolean> {
    const r = await this.pool.query(MISMATCH_SQL, [...this.values(p, rec, p.id), exchangeQty === undefined ? null : String(exchangeQty)]);
    return r.rowCount === 1;
  }

  /** The position's stop loss ('sl') or take profit ('tp') no longer rests on the exchange while the position is open. */
  async recordProtectionGone(p: HeldPosition, which: 'sl' | 'tp', rec: ReconcileRecord): Promise<boolean> {
    const r = await this.pool.query(GONE_SQL, [...this.values(p, rec, p.id), which]);
    return r.rowCount === 1;
  }

  /** A position on the exchange that no futures Position of the user explains, recorded once per observation. */
  async recordUnknown(owner: HeldPosition, pair: string, side: 'long' | 'short', rec: ReconcileRecord): Promise<boolean> {
    const v = this.values(owner, rec, `${owner.userId}|${owner.exchange}|${pair}`);
    const r = await this.pool.query(UNKNOWN_SQL, [owner.subscriptionId, pair, side, ...v.slice(3)]);
    return r.rowCount === 1;
  }
}
