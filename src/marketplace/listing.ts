/**
 * The marketplace list (GET /api/strategies): filter, search, sort on every column and paginate in SQL,
 * then build the page's rows with the same track-record code as the strategy page.
 *
 * Sort keys come from per-strategy aggregates of the verified trades (both legs with a market price),
 * at market prices like every published figure: compounded return as exp(sum(ln(1 + pnl))), max
 * drawdown from the running peak of that sum, Sharpe and Sortino per trade (trade-aggregates.ts: one
 * pass over the trades, kept while the trades stand still, joined here as arrays). Only the aggregates
 * the request needs are joined (a plain newest-first page touches no trade). The figures shown in the rows
 * come from track-record.ts for the page's strategies only, so a row shows exactly what its strategy
 * page shows; the aggregates only order and filter. A trade losing 100 % or more (a SHORT whose price
 * more than doubled) is clamped to a near-zero equity factor in the sort key, where the logarithm
 * would be undefined.
 * Nulls (no trades: no win rate, no Sharpe) sort last in both directions; ties are broken by id, so
 * pages never repeat or skip a strategy while the data stands still.
 */
import { Prisma, type PrismaClient } from '@prisma/client';
import { z } from 'zod';
import { PAIR_RE } from '../signals/index.js';
import { marketPnlPct, trackRecords, type TrackRecord } from './track-record.js';
import type { TradeAggregates } from './trade-aggregates.js';

export const SORT_COLUMNS = ['created', 'name', 'author', 'pairs', 'trades', 'winRate', 'totalPnl', 'return', 'avgPnl', 'maxDrawdown', 'sharpe', 'sortino', 'verifiedShare', 'subscribers'] as const;
export type SortColumn = typeof SORT_COLUMNS[number];
export const PERIODS = { '7d': 7, '30d': 30, '90d': 90, all: null } as const;
export type Period = keyof typeof PERIODS;
/** Points of a row's sparkline: the equity at 30 equal steps across the period, after a start of 100. */
export const SPARK_STEPS = 30;
const DAY_MS = 86_400_000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TEXT_SORTS = new Set<SortColumn>(['name', 'author', 'pairs']);

const days = z.coerce.number().int().min(0).max(36_500);
/** GET /api/strategies query. Unknown parameters are a 400: a misspelt filter must not silently list everything. */
export const listQuery = z.object({
  sort: z.enum(SORT_COLUMNS).default('created').describe('column to sort by; nulls (no trades) always last, ties by id'),
  order: z.enum(['asc', 'desc']).optional().describe('default: asc for name, author and pairs; desc otherwise'),
  q: z.string().trim().max(100).optional().describe('search in name, description and author name (case-insensitive substring; empty: no search)'),
  pair: z.string().trim().toUpperCase().regex(PAIR_RE, 'must look like BASE/QUOTE').optional().describe('strategies that list this pair or have traded it'),
  minTrades: z.coerce.number().int().min(0).max(1_000_000).optional().describe('at least this many closed trades with verified prices'),
  minAgeDays: days.optional().describe('created at least this many days ago'),
  maxAgeDays: days.optional().describe('created at most this many days ago'),
  period: z.enum(['7d', '30d', '90d', 'all']).default('30d').describe('window of periodReturnPct, the sparkline and sort=return'),
  ids: z.string().max(4000)
    .transform((s, ctx) => {
      const ids = [...new Set(s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))];
      if (ids.length > 100 || ids.some((x) => !UUID_RE.test(x))) ctx.addIssue({ code: 'custom', message: 'must be at most 100 comma-separated UUIDs' });
      return ids;
    }).optional().describe('comma-separated strategy ids (at most 100): only these'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
}).strict().refine((q) => q.minAgeDays === undefined || q.maxAgeDays === undefined || q.minAgeDays <= q.maxAgeDays, { message: 'minAgeDays must not exceed maxAgeDays', path: ['minAgeDays'] });
export type ListQuery = z.infer<typeof listQuery>;

/** The SQL expression each column sorts by (fixed text, never from the request). */
const SORT_SQL: Record<SortColumn, string> = {
  created: 's."createdAt"',
  name: 'lower(s.name)',
  author: 'lower(split_part(u.email, \'@\', 1))',
  pairs: 'array_to_string(s.pairs, \',\')',
  trades: 'coalesce(a.n, 0)',
  winRate: 'a.wins * 100.0 / nullif(a.n, 0)',
  totalPnl: '(exp(a.slg) - 1) * 100',
  return: '(exp(a.plg) - 1) * 100',
  avgPnl: 'a.avgp',
  maxDrawdown: 'a.mdd * 100',
  sharpe: 'CASE WHEN a.sd > 0 THEN a.avgp / a.sd END',
  sortino: 'CASE WHEN a.n >= 2 AND a.dsd > 0 THEN a.avgp / a.dsd END',
  verifiedShare: 'sg.v::float8 / nullif(sg.n, 0)',
  subscribers: 'coalesce(sub.n, 0)',
};

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function whereClause(q: ListQuery, now: number): Prisma.Sql {
  const conds: Prisma.Sql[] = [];
  if (q.q) {
    const p = likePattern(q.q);
    conds.push(Prisma.sql`(s.name ILIKE ${p} OR s.description ILIKE ${p} OR split_part(u.email, '@', 1) ILIKE ${p})`);
  }
  if (q.pair) conds.push(Prisma.sql`(${q.pair} = ANY(s.pairs) OR EXISTS (SELECT 1 FROM "Trade" t WHERE t."strategyId" = s.id AND t.pair = ${q.pair}))`);
  if (q.minTrades) conds.push(Prisma.sql`coalesce(a.n, 0) >= ${q.minTrades}`);
  if (q.minAgeDays !== undefined) conds.push(Prisma.sql`s."createdAt" <= ${new Date(now - q.minAgeDays * DAY_MS)}`);
  if (q.maxAgeDays !== undefined) conds.push(Prisma.sql`s."createdAt" >= ${new Date(now - q.maxAgeDays * DAY_MS)}`);
  if (q.ids?.length) conds.push(Prisma.sql`s.id IN (${Prisma.join(q.ids.map((id) => Prisma.sql`${id}::uuid`))})`);
  return conds.length ? Prisma.sql`WHERE ${Prisma.join(conds, ' AND ')}` : Prisma.empty;
}

/** WITH … and FROM … for the aggregates a statement needs (trade stats, signal counts, subscriber counts). */
async function source(aggregates: TradeAggregates, need: { trades: boolean; drawdown?: boolean; signals: boolean; subs: boolean }, since: Date | null, period: Period): Promise<{ withs: Prisma.Sql; from: Prisma.Sql }> {
  const ctes: Prisma.Sql[] = [];
  const joins: Prisma.Sql[] = [Prisma.sql`LEFT JOIN "User" u ON u.id = s."authorId"`];
  if (need.trades) { ctes.push(await aggregates.cte(since, period, need.drawdown ?? false)); joins.push(Prisma.sql`LEFT JOIN a ON a.sid = s.id`); }
  if (need.signals) {
    ctes.push(Prisma.sql`sg AS (SELECT "strategyId" AS sid, count(*)::int AS n, count("marketPrice")::int AS v FROM "Signal" GROUP BY 1)`);
    joins.push(Prisma.sql`LEFT JOIN sg ON sg.sid = s.id`);
  }
  if (need.subs) {
    ctes.push(Prisma.sql`sub AS (SELECT "strategyId" AS sid, count(*)::int AS n FROM "Subscription" WHERE status = 'ACTIVE' GROUP BY 1)`);
    joins.push(Prisma.sql`LEFT JOIN sub ON sub.sid = s.id`);
  }
  const withs = ctes.length ? Prisma.sql`WITH ${Prisma.join(ctes, ', ')}` : Prisma.empty;
  return { withs, from: Prisma.sql`FROM "Strategy" s ${Prisma.join(joins, ' ')}` };
}

/** Start of the period window (null: the whole history). */
export const periodStart = (period: Period, now: number): Date | null => {
  const d = PERIODS[period];
  return d === null ? null : new Date(now - d * DAY_MS);
};

/** One page of strategy ids in the requested order, and how many strategies match. */
export async function pageOfIds(prisma: PrismaClient, aggregates: TradeAggregates, q: ListQuery, now: number): Promise<{ ids: string[]; total: number }> {
  const since = periodStart(q.period, now);
  const statSort = !['created', 'name', 'author', 'pairs', 'verifiedShare', 'subscribers'].includes(q.sort);
  const filterNeedsTrades = Boolean(q.minTrades);
  const order = q.order ?? (TEXT_SORTS.has(q.sort) ? 'asc' : 'desc');
  const p = await source(aggregates, { trades: statSort || filterNeedsTrades, drawdown: q.sort === 'maxDrawdown', signals: q.sort === 'verifiedShare', subs: q.sort === 'subscribers' }, since, q.period);
  const c = await source(aggregates, { trades: filterNeedsTrades, signals: false, subs: false }, since, q.period);
  const where = whereClause(q, now);
  const orderBy = Prisma.raw(`${SORT_SQL[q.sort]} ${order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, s.id ASC`);
  // The total rides along as a window count (the aggregates run once); a page past the end counts apart.
  const rows = await prisma.$queryRaw<{ id: string; total: number }[]>`${p.withs} SELECT s.id::text AS id, (count(*) OVER ())::int AS total ${p.from} ${where} ORDER BY ${orderBy} LIMIT ${q.limit} OFFSET ${(q.page - 1) * q.limit}`;
  if (rows.length) return { ids: rows.map((r) => r.id), total: Number(rows[0]!.total) };
  const count = await prisma.$queryRaw<{ n: number }[]>`${c.withs} SELECT count(*)::int AS n ${c.from} ${where}`;
  return { ids: [], total: Number(count[0]?.n ?? 0) };
}

/** The period return (compounded, market prices) and the sparkline of a row. */
export interface PeriodFigures {
  /** null for a strategy without verified trades; 0 when none closed in the period. */
  periodReturnPct: number | null;
  /** SPARK_STEPS + 1 equity points across the period (first = 100); empty without verified trades. */
  sparkline: number[];
}

/** Period figures of the page's strategies, from their verified trades at market prices (one query). */
export async function periodFigures(prisma: PrismaClient, rows: { id: string; createdAt: Date }[], period: Period, now: number): Promise<(id: string) => PeriodFigures> {
  const since = periodStart(period, now);
  const trades = await prisma.trade.findMany({
    where: { strategyId: { in: rows.map((r) => r.id) }, status: 'COMPLETED', entryMarketPrice: { not: null }, exitMarketPrice: { not: null } },
    orderBy: { closeSeq: 'asc' }, select: { strategyId: true, direction: true, entryMarketPrice: true, exitMarketPrice: true, closedAt: true },
  });
  const byId = new Map<string, { at: number; p: number }[]>();
  for (const t of trades) {
    const p = marketPnlPct(t);
    if (p === null || !t.closedAt) continue;
    const list = byId.get(t.strategyId) ?? [];
    if (!list.length) byId.set(t.strategyId, list);
    list.push({ at: t.closedAt.getTime(), p });
  }
  const created = new Map(rows.map((r) => [r.id, r.createdAt.getTime()]));
  return (id) => {
    const list = byId.get(id) ?? [];
    if (!list.length) return { periodReturnPct: null, sparkline: [] };
    const start = since ? since.getTime() : Math.min(created.get(id) ?? now, list[0]!.at);
    return sparkAndReturn(list, start, now);
  };
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

/** Equity after the trades closed in [start, t] at SPARK_STEPS + 1 instants; the return is its last point. */
export function sparkAndReturn(trades: { at: number; p: number }[], start: number, now: number): PeriodFigures {
  const inWindow = trades.filter((t) => t.at >= start && t.at <= now);
  const points: number[] = [];
  let equity = 1;
  let i = 0;
  for (let k = 0; k <= SPARK_STEPS; k++) {
    const t = start + ((now - start) * k) / SPARK_STEPS;
    while (i < inWindow.length && inWindow[i]!.at <= t) equity *= 1 + inWindow[i++]!.p / 100;
    points.push(round(equity * 100, 2));
  }
  while (i < inWindow.length) equity *= 1 + inWindow[i++]!.p / 100;
  return { periodReturnPct: round((equity - 1) * 100, 4), sparkline: points };
}

/** What GET /api/strategies answers. */
export interface ListPage<Row> { strategies: (Row & TrackRecord & PeriodFigures)[]; total: number; page: number; limit: number; pages: number; sort: SortColumn; order: 'asc' | 'desc'; period: Period }

/** One page of the list: ids in order from SQL, each row with its track record and period figures. */
export async function listStrategies<Row extends { id: string; createdAt: Date }>(
  prisma: PrismaClient, aggregates: TradeAggregates, q: ListQuery, load: (ids: string[]) => Promise<Row[]>, now = Date.now(),
): Promise<ListPage<Row>> {
  const { ids, total } = await pageOfIds(prisma, aggregates, q, now);
  const found = new Map((await load(ids)).map((r) => [r.id, r]));
  const rows = ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : [])); // a strategy deleted in between is skipped
  const [record, period] = await Promise.all([trackRecords(prisma, ids), periodFigures(prisma, rows, q.period, now)]);
  return {
    strategies: rows.map((r) => ({ ...r, ...record(r.id), ...period(r.id) })),
    total, page: q.page, limit: q.limit, pages: Math.max(1, Math.ceil(total / q.limit)),
    sort: q.sort, order: q.order ?? (TEXT_SORTS.has(q.sort) ? 'asc' : 'desc'), period: q.period,
  };
}
