/**
 * The marketplace list's trade aggregates per strategy (listing.ts sorts and filters by them), and their
 * cache: computing them reads every verified trade (100,000 trades: ~0.2-0.5 s on 2 shared cores), so
 * each (period, drawdown) variant is kept while the trades stand still and brought up to date
 * strategy by strategy when they move. A trade completes only with a CLOSE signal, whose seq is above
 * every seq before it (the global seq is allocated under a lock, commit order = seq order): after seq S,
 * the trades completed since are those with closeSeq > S, and only their strategies are computed again.
 * When the completed-trade count disagrees with that (rows written around the coordinator: tests,
 * repairs), or the kept variant is MAX_AGE_MS old (a period window, now - 30 d, drifts that much),
 * everything is computed again.
 */
import { Prisma, type PrismaClient } from '@prisma/client';

const MAX_AGE_MS = 60_000;

/**
 * Per-strategy aggregates of the verified trades at market prices in one pass (GROUP BY); `since` bounds
 * the period sum; `drawdown`: also each strategy's ln(1 + pnl) in close order (lgs), from which maxDrawdown
 * computes the running peak (in SQL that is two window passes over every trade, about 4x the work).
 */
function aggregatesSql(since: Date | null, drawdown: boolean, only?: string[]): Prisma.Sql {
  const of = only ? Prisma.sql`AND "strategyId" = ANY(${only}::uuid[])` : Prisma.empty;
  const inPeriod = since ? Prisma.sql`at >= ${since}` : Prisma.sql`true`;
  const lgs = drawdown ? Prisma.sql`array_agg(lg ORDER BY seq)` : Prisma.sql`NULL::float8[]`;
  return Prisma.sql`
    WITH tl AS (SELECT sid, seq, at, p, ln(greatest(1 + p / 100, 1e-12)) AS lg FROM (
      SELECT "strategyId" AS sid, "closeSeq" AS seq, "closedAt" AS at,
        round(CASE WHEN direction = 'LONG' THEN "exitMarketPrice" - "entryMarketPrice" ELSE "entryMarketPrice" - "exitMarketPrice" END / "entryMarketPrice" * 100, 8)::float8 AS p
      FROM "Trade" WHERE status = 'COMPLETED' AND "entryMarketPrice" > 0 AND "exitMarketPrice" IS NOT NULL ${of}) tp)
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

interface Agg { n: number; wins: number; slg: number; avgp: number; sd: number | null; dsd: number | null; mdd: number | null; plg: number }
/** One kept variant: as of global seq `seq` with `count` completed trades, computed at `at` for the window from `since`. */
interface Kept { seq: bigint; count: number; at: number; since: Date | null; byId: Map<string, Agg> }

export class TradeAggregates {
  private readonly kept = new Map<string, Kept>();
  private readonly inflight = new Map<string, Promise<Kept>>();

  constructor(private readonly prisma: PrismaClient) {}

  /** The `a` CTE (sid, n, wins, slg, avgp, sd, dsd, mdd, plg) for `since`, kept up to date as trades complete. */
  async cte(since: Date | null, period: string, drawdown: boolean): Promise<Prisma.Sql> {
    const variant = `${period}:${drawdown}`;
    const [now] = await this.prisma.$queryRaw<{ seq: bigint; count: number }[]>`SELECT (SELECT value FROM "SeqCounter" WHERE id = 1) AS seq, (SELECT count(*) FROM "Trade" WHERE status = 'COMPLETED')::int AS count`;
    const seq = BigInt(now?.seq ?? 0);
    const count = Number(now?.count ?? 0);
    // Requests that need the same update share it.
    const key = `${variant}@${seq}:${count}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.current(variant, since, drawdown, seq, count).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const byId = (await p).byId;
    const ids = [...byId.keys()];
    const col = <K extends keyof Agg>(k: K) => ids.map((id) => byId.get(id)![k]);
    return Prisma.sql`a AS (SELECT * FROM unnest(${ids}::uuid[], ${col('n')}::int[], ${col('wins')}::int[], ${col('slg')}::float8[], ${col('avgp')}::float8[],
      ${col('sd')}::float8[], ${col('dsd')}::float8[], ${col('mdd')}::float8[], ${col('plg')}::float8[]) AS t(sid, n, wins, slg, avgp, sd, dsd, mdd, plg))`;
  }

  private async current(variant: string, since: Date | null, drawdown: boolean, seq: bigint, count: number): Promise<Kept> {
    const old = this.kept.get(variant);
    const fresh = old && Date.now() - old.at < MAX_AGE_MS;
    if (old && fresh && old.seq === seq && old.count === count) return old;
    let next: Kept | undefined;
    if (old && fresh && seq > old.seq) {
      const [moved] = await this.prisma.$queryRaw<{ sids: string[]; n: number }[]>`
        SELECT coalesce(array_agg(DISTINCT "strategyId"::text), '{}') AS sids, count(*)::int AS n FROM "Trade" WHERE status = 'COMPLETED' AND "closeSeq" > ${old.seq}`;
      if (moved && old.count + moved.n === count) {
        const byId = new Map(old.byId);
        for (const id of moved.sids) byId.delete(id);
        if (moved.sids.length) for (const [id, a] of await this.compute(old.since, drawdown, moved.sids)) byId.set(id, a);
        next = { seq, count, at: old.at, since: old.since, byId };
      }
    }
    next ??= { seq, count, at: Date.now(), since, byId: await this.compute(since, drawdown) };
    // A slower update for an older state must not replace a newer one.
    if (!this.kept.get(variant) || this.kept.get(variant)!.seq <= seq) this.kept.set(variant, next);
    return next;
  }

  private async compute(since: Date | null, drawdown: boolean, only?: string[]): Promise<Map<string, Agg>> {
    const list = await this.prisma.$queryRaw<(Omit<Agg, 'mdd'> & { sid: string; lgs: number[] | null })[]>`${aggregatesSql(since, drawdown, only)}`;
    return new Map(list.map((r) => [r.sid, {
      n: r.n, wins: r.wins, slg: r.slg, avgp: r.avgp, sd: r.sd, dsd: r.dsd, plg: r.plg, mdd: r.lgs ? maxDrawdown(r.lgs.map(Number)) : null,
    }]));
  }
}
