/**
 * FinishQueue: group commit of final statuses. Each finished job is queued; whenever fewer than
 * `parallel` flushes are running, everything queued goes out as ONE statement that sets the rows'
 * final status and applies their Position changes (data-modifying CTE: one statement = one atomic
 * commit, so a row and its position never diverge). No timer: under light load a flush leaves at once,
 * under heavy load rows pile up behind the running flushes and share the next one.
 * Every row update is conditional on `lockedBy` = this worker and status PENDING: a row whose lease was
 * lost is not written, and neither is its position; its job learns `false`.
 * Rows of one (subscription, pair) never share a statement (a position is touched once per statement);
 * a failed batch is retried row by row, so one bad row only fails itself.
 */
import type pg from 'pg';
import type { Job, Outcome } from './types.js';

const FINISH_SQL = `
WITH v AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
    $11::text[], $12::uuid[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[],
    $22::int[], $23::text[], $24::text[])
    AS v(id, status, error, side, amount, price, "orderId", response, legs, pnl, pkind, pstrategy, pqty, pprice, pprotect,
      pmarket, pside, psl, ptp, pslprice, ptpprice, plev, pmargin, pfee)),
upd AS (
  UPDATE "ExecutionLog" e SET status = v.status::"ExecutionStatus", error = v.error, side = v.side, amount = v.amount::numeric, price = v.price::numeric,
    "orderId" = v."orderId", "exchangeResponse" = v.response::jsonb, paper = $25, legs = v.legs::jsonb, "realisedPnl" = v.pnl::numeric,
    "executedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL
  FROM v WHERE e.id = v.id AND e."lockedBy" = $26 AND e.status = 'PENDING'
  RETURNING e.id, e."subscriptionId", e."signalId", e.pair),
del AS (
  DELETE FROM "Position" p USING upd JOIN v ON v.id = upd.id
  WHERE v.pkind = 'close' AND p."subscriptionId" = upd."subscriptionId" AND p.pair = upd.pair),
ins AS (
  INSERT INTO "Position" (id, "subscriptionId", "strategyId", pair, qty, "avgPrice", "protectClientOrderId", "openSignalId", paper, "updatedAt",
    market, side, "slClientOrderId", "tpClientOrderId", "stopLoss", "takeProfit", leverage, "marginMode", "entryFee", "openedAt")
  SELECT gen_random_uuid(), upd."subscriptionId", v.pstrategy, upd.pair, v.pqty::numeric, v.pprice::numeric, v.pprotect, upd."signalId", $25, now(),
    COALESCE(v.pmarket, 'spot'), COALESCE(v.pside, 'long'), v.psl, v.ptp, v.pslprice::numeric, v.ptpprice::numeric, COALESCE(v.plev, 1), v.pmargin, v.pfee::numeric, now()
  FROM upd JOIN v ON v.id = upd.id WHERE v.pkind = 'open'
  ON CONFLICT ("subscriptionId", pair) DO UPDATE SET
    "avgPrice" = ("Position".qty * "Position"."avgPrice" + EXCLUDED.qty * EXCLUDED."avgPrice") / NULLIF("Position".qty + EXCLUDED.qty, 0),
    qty = "Position".qty + EXCLUDED.qty, "protectClientOrderId" = EXCLUDED."protectClientOrderId", "openSignalId" = EXCLUDED."openSignalId", "updatedAt" = now(),
    "slClientOrderId" = EXCLUDED."slClientOrderId", "tpClientOrderId" = EXCLUDED."tpClientOrderId", "stopLoss" = EXCLUDED."stopLoss", "takeProfit" = EXCLUDED."takeProfit")
SELECT id FROM upd`;

interface Item { job: Job; o: Outcome; resolve: (ok: boolean) => void; reject: (err: unknown) => void }

const str = (n: number | undefined | null) => (n === undefined || n === null ? null : String(n));

export class FinishQueue {
  private queue: Item[] = [];
  private running = 0;

  /**
   * @param parallel flushes at once (each holds one pool connection for one statement)
   * @param maxBatch rows per statement
   */
  constructor(private readonly pool: pg.Pool, private readonly workerId: string, private readonly paper: boolean,
    private readonly parallel = 2, private readonly maxBatch = 256) {}

  /** Resolves once the row's final status (and position change) is committed: true, or false when the lease was lost. */
  finish(job: Job, o: Outcome): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ job, o, resolve, reject });
      this.pumpSoon();
    });
  }

  private pumpSoon(): void {
    if (this.running < this.parallel && this.queue.length) {
      this.running++;
      // Let the jobs finishing in this turn of the event loop join the batch.
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.take();
        await this.write(batch).catch(async () => {
          for (const item of batch) await this.write([item]).catch((err) => item.reject(err));
        });
      }
    } finally {
      this.running--;
      this.pumpSoon();
    }
  }

  /** Up to maxBatch queued items, at most one per (subscription, pair); the rest stay queued in order. */
  private take(): Item[] {
    const seen = new Set<string>();
    const batch: Item[] = [];
    const rest: Item[] = [];
    for (const item of this.queue) {
      const key = `${item.job.subscriptionId}|${item.job.pair}`;
      if (batch.length >= this.maxBatch || seen.has(key)) rest.push(item);
      else { seen.add(key); batch.push(item); }
    }
    this.queue = rest;
    return batch;
  }

  private async write(batch: Item[]): Promise<void> {
    const cols: (string | number | null)[][] = Array.from({ length: 24 }, () => []);
    for (const { job, o } of batch) {
      const p = o.position;
      const open = p?.kind === 'open' ? p : undefined;
      const f = open?.futures;
      const row: (string | number | null)[] = [
        job.id, o.status, o.error?.slice(0, 2000) ?? null, o.side ?? null, str(o.amount), str(o.price), o.orderId ?? null,
        o.response === undefined ? null : JSON.stringify(o.response), JSON.stringify(job.legs), str(o.realisedPnl),
        p?.kind ?? null, open?.strategyId ?? null, str(open?.qty), str(open?.price), open?.protectClientOrderId ?? null,
        f ? 'futures' : null, f?.side ?? null, f?.slClientOrderId ?? null, f?.tpClientOrderId ?? null, str(f?.stopLoss), str(f?.takeProfit),
        f?.leverage ?? null, f?.marginMode ?? null, str(f?.entryFee),
      ];
      row.forEach((v, i) => cols[i]!.push(v));
    }
    // Named: each connection plans this statement once, not on every flush.
    const r = await this.pool.query<{ id: string }>({ name: 'executor-finish', text: FINISH_SQL, values: [...cols, this.paper, this.workerId] });
    const done = new Set(r.rows.map((x) => x.id));
    for (const item of batch) item.resolve(done.has(item.job.id));
  }
}
