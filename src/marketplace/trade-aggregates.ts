/**
 * The marketplace list's trade aggregates per strategy (listing.ts sorts and filters by them), and their
 * cache: computing them reads every verified trade (100,000 trades: ~0.2-0.5 s on 2 shared cores), so
 * each (period, drawdown) variant is kept and reused while the trades stand still. The cache key is the
 * global signal seq and the number of completed trades (one row and an index-only count): a trade closes
 * only with a CLOSE signal, which moves the seq, so a close invalidates it at once, in every process;
 * rows written around the coordinator (tests, repairs) change the count. A kept variant is at most
 * MAX_AGE_MS old, so a period window (now - 30 d) drifts by at most that much.
 */
import { Prisma, type PrismaClient } from '@prisma/client';

const MAX_AGE_MS = 60_000;

/**
 * Per-strategy aggregates of the verified trades at market prices in one pass (GROUP BY); `since` bounds
 * the period sum; `drawdown`: also each strategy's ln(1 + pnl) in close order (lgs), from which maxDrawdown
 * computes the running peak (in SQL that is two window passes over every trade, about 4x the work).
 */
function aggregatesSql(since: Date | null, drawdown: boolean): Prisma.Sql {
  const inPeriod = since ? Prisma.sql`at >= ${since}` : Prisma.sql`true`;
  const lgs = drawdown ? Prisma.sql`array_agg(lg ORDER BY seq)` : Prisma.sql`NULL::float8[]`;
  return Prisma.sql`
    WITH tl AS (SELECT sid, seq, at, p, ln(greatest(1 + p / 100, 1e-12)) AS lg FROM (
      SELECT "strategyId" AS sid, "closeSeq" AS seq, "closedAt" AS at,
        round(CASE WHEN direction = 'LONG' THEN "exitMarketPrice" - "entryMarketPrice" ELSE "entryMarketPrice" - "exitMarketPrice" END / "entryMarketPrice" * 100, 8)::float8 AS p
      FROM "Trade" WHERE status = 'COMPLETED' AND "entryMarketPrice" > 0 AND "exitMarketPrice" IS NOT NULL) tp)
    SELECT sid::text AS sid, count(*)::int AS n, (count(*) FILTER (WHERE p > 0))::int AS wins, sum(lg) AS slg, avg(p) AS avgp,
      stddev_samp(p) AS sd, sqrt(sum(least(p, 0) ^ 2) / count(*)) AS dsd, coalesce(sum(lg) FILTER (WHERE ${inPeriod}), 0) AS plg, ${lgs} AS lgs
    FROM tl GROUP BY sid`;
}

/** Max drawdown (0..1) of the equity exp(running sum of lgs), its peak at least the start (1). */
function maxDrawdown(lgs: number[]): number {
  let c = 0;
  let peak = 0;
  let mdd = 0;
  for (const lg of lgs) {
    c += lg;
    peak = Math.max(peak, c);
    mdd = Math.max(mdd, 1 - Math.exp(c - peak));
  }
  return mdd;
}

interface Rows { sid: string[]; n: number[]; wins: number[]; slg: number[]; avgp: number[]; sd: (number | null)[]; dsd: (number | null)[]; mdd: (number | null)[]; plg: number[] }

export class TradeAggregates {
  private readonly kept = new Map<string, { key: string; at: number; rows: Rows }>();
  private readonly inflight = new Map<string, Promise<Rows>>();

  constructor(private readonly prisma: PrismaClient) {}

  /** The `a` CTE (sid, n, wins, slg, avgp, sd, dsd, mdd, plg) for `since`, from the cache when the trades are unchanged. */
  async cte(since: Date | null, period: string, drawdown: boolean): Promise<Prisma.Sql> {
    const variant = `${period}:${drawdown}`;
    const [{ k }] = await this.prisma.$queryRaw<{ k: string }[]>`SELECT (SELECT value FROM "SeqCounter" WHERE id = 1)::text || ':' || (SELECT count(*) FROM "Trade" WHERE status = 'COMPLETED')::text AS k`;
    const hit = this.kept.get(variant);
    let rows: Rows;
    if (hit && hit.key === k && Date.now() - hit.at < MAX_AGE_MS) rows = hit.rows;
    else {
      // Requests that miss together share one computation.
      const key = `${variant}@${k}`;
      let p = this.inflight.get(key);
      if (!p) {
        p = this.compute(since, drawdown).finally(() => this.inflight.delete(key));
        this.inflight.set(key, p);
        p.then((r) => this.kept.set(variant, { key: k, at: Date.now(), rows: r })).catch(() => {});
      }
      rows = await p;
    }
    return Prisma.sql`a AS (SELECT * FROM unnest(${rows.sid}::uuid[], ${rows.n}::int[], ${rows.wins}::int[], ${rows.slg}::float8[], ${rows.avgp}::float8[],
      ${rows.sd}::float8[], ${rows.dsd}::float8[], ${rows.mdd}::float8[], ${rows.plg}::float8[]) AS t(sid, n, wins, slg, avgp, sd, dsd, mdd, plg))`;
  }

  private async compute(since: Date | null, drawdown: boolean): Promise<Rows> {
    const list = await this.prisma.$queryRaw<{ sid: string; n: number; wins: number; slg: number; avgp: number; sd: number | null; dsd: number | null; plg: number; lgs: number[] | null }[]>`${aggregatesSql(since, drawdown)}`;
    const col = <K extends keyof Rows>(k: K) => list.map((r) => r[k as keyof typeof r]) as Rows[K];
    const mdd = list.map((r) => (r.lgs ? maxDrawdown(r.lgs.map(Number)) : null));
    return { sid: col('sid'), n: col('n'), wins: col('wins'), slg: col('slg'), avgp: col('avgp'), sd: col('sd'), dsd: col('dsd'), mdd, plg: col('plg') };
  }
}
