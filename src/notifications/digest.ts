/**
 * Authors' digest of refused webhook deliveries (wrong secret, stale, out of band, rate limited): never
 * one message per refused request. The api process counts refusals of POST /api/webhooks/tradingview/:id
 * from the error code the central handler answers with (a middleware placed before the signal routes:
 * the signal module is not touched), sums them in memory and adds them every few seconds to
 * NotificationRefusalCount per (strategy, period, reason). The notifier turns each ended period into
 * one event per strategy for its author (`digest:<strategy>:<period start>`), in the transaction that
 * deletes the counted rows.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import { enqueue, recipients } from './outbox.js';

/** Error codes counted, by the reason shown to the author. */
const REASONS: Record<string, string> = {
  WEBHOOK_SECRET_INVALID: 'wrong secret',
  SIGNAL_STALE: 'stale',
  PRICE_OUT_OF_BAND: 'out of band',
  RATE_LIMITED: 'rate limited',
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** pg_advisory_xact_lock key of the digest writer ("SMDG"). */
const DIGEST_LOCK = 0x534d4447;

export class RefusalCounter {
  private pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly pool: pg.Pool, private readonly periodMs: number, private readonly log: Logger, private readonly flushMs = 2000) {}

  /** Observes webhook answers (mount before the signal routes). */
  router(): Router {
    const r = Router();
    r.post('/api/webhooks/tradingview/:strategyId', (req: Request, res: Response, next: NextFunction) => {
      const strategyId = String(req.params.strategyId);
      if (!UUID.test(strategyId)) return next();
      const json = res.json.bind(res);
      res.json = (body?: unknown) => {
        const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
        if (res.statusCode >= 400 && typeof code === 'string') this.note(strategyId.toLowerCase(), res.statusCode === 429 ? 'RATE_LIMITED' : code);
        return json(body);
      };
      next();
    });
    return r;
  }

  note(strategyId: string, code: string): void {
    const reason = REASONS[code];
    if (!reason) return;
    const period = Math.floor(Date.now() / this.periodMs) * this.periodMs;
    const key = `${strategyId}|${period}|${reason}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    if (this.pending.size > 10_000) this.pending.clear(); // a flood of strangers' ids: drop rather than grow
    if (!this.timer) { this.timer = setTimeout(() => { this.timer = undefined; void this.flush(); }, this.flushMs); this.timer.unref(); }
  }

  /** Adds the counts to PostgreSQL (rows only for strategies that exist). */
  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const entries = [...this.pending];
    this.pending = new Map();
    const [ids, periods, reasons, counts] = [entries.map(([k]) => k.split('|')[0]!), entries.map(([k]) => new Date(Number(k.split('|')[1]))), entries.map(([k]) => k.split('|')[2]!), entries.map(([, n]) => n)];
    await this.pool.query(
      `INSERT INTO "NotificationRefusalCount" ("strategyId", "periodStart", reason, count)
       SELECT v.id, v.p AT TIME ZONE 'UTC', v.r, v.n FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::int[]) AS v(id, p, r, n)
       WHERE EXISTS (SELECT 1 FROM "Strategy" s WHERE s.id = v.id)
       ON CONFLICT ("strategyId", "periodStart", reason) DO UPDATE SET count = "NotificationRefusalCount".count + EXCLUDED.count`,
      [ids, periods, reasons, counts]).catch((err) => this.log.warn({ err }, 'refusal counts not saved'));
  }

  async stop(): Promise<void> { clearTimeout(this.timer); this.timer = undefined; await this.flush(); }
}

/** Turns every ended period's counts into one digest event per strategy; returns the events queued. */
export async function writeDigests(pool: pg.Pool, periodMs: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (!(await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [DIGEST_LOCK])).rows[0]!.ok) { await client.query('ROLLBACK'); return 0; }
    const rows = (await client.query<{ strategyId: string; name: string; authorId: string | null; periodStart: string; reason: string; count: number }>(
      `DELETE FROM "NotificationRefusalCount" c USING "Strategy" s
       WHERE s.id = c."strategyId" AND c."periodStart" + $1 * interval '1 millisecond' <= now() AT TIME ZONE 'UTC'
       RETURNING c."strategyId", s.name, s."authorId", to_char(c."periodStart", 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "periodStart", c.reason, c.count`,
      [periodMs])).rows;
    const groups = new Map<string, typeof rows>();
    for (const r of rows) if (r.authorId) groups.set(`${r.strategyId}|${r.periodStart}`, [...(groups.get(`${r.strategyId}|${r.periodStart}`) ?? []), r]);
    const authors = new Map((await recipients(client, [...new Set(rows.map((r) => r.authorId).filter((a): a is string => !!a))])).map((r) => [r.userId, r]));
    const items = [...groups.values()].flatMap((g) => {
      const first = g[0]!;
      const recipient = authors.get(first.authorId!);
      const to = new Date(Date.parse(first.periodStart) + periodMs).toISOString().replace('.000', '');
      const counts = Object.fromEntries(g.map((r) => [r.reason, r.count]));
      return recipient ? [{ recipient, event: { eventId: `digest:${first.strategyId}:${first.periodStart}`, kind: 'author.refused_digest' as const, payload: { strategyId: first.strategyId, strategy: first.name, counts, from: first.periodStart, to } } }] : [];
    });
    const queued = await enqueue(client, items);
    await client.query('COMMIT');
    return queued;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
