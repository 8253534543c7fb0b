/**
 * Operator alerts: conditions checked every NOTIFY_ALERT_INTERVAL_MS by the notifier, each sent to every
 * admin once when it starts and once when it clears, with the figure that tripped it. State lives in
 * NotificationAlertState (GET /api/admin/alerts); a transition is a conditional UPDATE, so two notifiers
 * never raise one alert twice. PostgreSQL being unreachable cannot be written while it lasts: it is
 * kept in memory and written (raised and cleared, with its duration) once the database answers again.
 * Messages name users only by masked email.
 */
import type pg from 'pg';
import type { Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';
import { MONITOR_TOPICS } from '../monitor/index.js';
import { maskEmail } from './events.js';
import { enqueue, recipients } from './outbox.js';

/** A time as people read it in a message sent to any channel: `2026-12-04 05:30:34 UTC` (no raw ISO string). */
const utcText = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export interface AlertThresholds {
  /** Oldest ready PENDING execution (seconds). */
  executorLagSeconds: number;
  /** Share of FAILED among finished executions of one venue in the window (0..1), with at least minOrders. */
  failureRate: number;
  minOrders: number;
  windowMinutes: number;
  /** FAILED executions across venues in the window. */
  errorBurst: number;
  /** Seconds without a prices message from the monitor (once one was seen). */
  priceFeedLagSeconds: number;
  /** Seconds since the newest captured signal while capture targets exist (0: not checked). */
  captureStaleSeconds: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  executorLagSeconds: 60, failureRate: 0.5, minOrders: 20, windowMinutes: 10, errorBurst: 100, priceFeedLagSeconds: 120, captureStaleSeconds: 0,
};

interface Reading { key: string; title: string; value: number; threshold: number; active: boolean; message: string }

export class AlertMonitor {
  private lastPricesAt?: number;
  private dbDownSince?: number;
  private dbDownPending?: { from: number; to: number };
  private unsubscribe?: () => void;

  constructor(private readonly deps: { pool: pg.Pool; bus: Bus; log: Logger; thresholds?: Partial<AlertThresholds> }) {}

  private get t(): AlertThresholds { return { ...DEFAULT_THRESHOLDS, ...this.deps.thresholds }; }

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe(MONITOR_TOPICS.prices, (m) => { const at = Number((m as { at?: unknown })?.at); this.lastPricesAt = Number.isFinite(at) ? at : Date.now(); });
  }

  stop(): void { this.unsubscribe?.(); }

  /** One check: reads the figures, applies transitions; returns the readings (for tests and logs). */
  async check(): Promise<Reading[]> {
    const readings: Reading[] = [];
    try {
      readings.push(...await this.readDatabaseFigures());
    } catch (err) {
      this.dbDownSince ??= Date.now();
      this.deps.log.warn({ err }, 'alert check: database unreachable');
      return [];
    }
    if (this.dbDownSince !== undefined) { this.dbDownPending = { from: this.dbDownSince, to: Date.now() }; this.dbDownSince = undefined; }
    const busOk = await this.deps.bus.healthy().catch(() => false);
    if (this.deps.bus.kind === 'redis') readings.push({ key: 'redis', title: 'Redis unreachable', value: busOk ? 0 : 1, threshold: 1, active: !busOk, message: busOk ? 'Redis answers again.' : 'The bus (Redis) is not delivering: live updates and cross-process wake-ups are degraded.' });
    if (this.lastPricesAt !== undefined) {
      const lag = Math.round((Date.now() - this.lastPricesAt) / 1000);
      readings.push({ key: 'price_feed_lag', title: 'Price feed lag', value: lag, threshold: this.t.priceFeedLagSeconds, active: lag >= this.t.priceFeedLagSeconds, message: `No reference prices for ${lag} s (threshold ${this.t.priceFeedLagSeconds} s).` });
    }
    for (const r of readings) await this.apply(r);
    if (this.dbDownPending) {
      const { from, to } = this.dbDownPending;
      const secs = Math.round((to - from) / 1000);
      const base = { key: 'postgres', title: 'PostgreSQL unreachable', value: secs, threshold: 0 };
      await this.apply({ ...base, active: true, message: `PostgreSQL did not answer from ${utcText(from)}.` }, new Date(from));
      await this.apply({ ...base, active: false, message: `PostgreSQL answers again after ${secs} s (since ${utcText(from)}).` });
      this.dbDownPending = undefined;
    }
    return readings;
  }

  private async readDatabaseFigures(): Promise<Reading[]> {
    const { pool } = this.deps;
    const t = this.t;
    const out: Reading[] = [];
    const lag = (await pool.query<{ lag: number | null }>(
      `SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - min("nextAttemptAt"))::float8 AS lag FROM "ExecutionLog" WHERE status = 'PENDING' AND "nextAttemptAt" <= now() AT TIME ZONE 'UTC'`)).rows[0]!.lag ?? 0;
    const lagS = Math.max(0, Math.round(lag));
    out.push({ key: 'executor_lag', title: 'Executor lag', value: lagS, threshold: t.executorLagSeconds, active: lagS >= t.executorLagSeconds, message: `The oldest ready order has waited ${lagS} s (threshold ${t.executorLagSeconds} s).` });
    const venues = (await pool.query<{ exchange: string; finished: number; failed: number; top: string | null }>(
      `SELECT e.exchange, count(*)::int AS finished, count(*) FILTER (WHERE e.status = 'FAILED')::int AS failed,
         (SELECT u.email FROM "ExecutionLog" x JOIN "User" u ON u.id = x."userId" WHERE x.exchange = e.exchange AND x.status = 'FAILED'
            AND x."executedAt" > (now() AT TIME ZONE 'UTC') - $1 * interval '1 minute' GROUP BY u.email ORDER BY count(*) DESC LIMIT 1) AS top
       FROM "ExecutionLog" e WHERE e.status <> 'PENDING' AND e."executedAt" > (now() AT TIME ZONE 'UTC') - $1 * interval '1 minute'
       GROUP BY e.exchange`, [t.windowMinutes])).rows;
    let failedTotal = 0;
    for (const v of venues) {
      failedTotal += v.failed;
      const rate = v.finished ? v.failed / v.finished : 0;
      const active = v.finished >= t.minOrders && rate >= t.failureRate;
      const pct = Math.round(rate * 100);
      out.push({
        key: `failure_rate:${v.exchange}`, title: `Failure rate on ${v.exchange}`, value: pct, threshold: Math.round(t.failureRate * 100), active,
        message: `${v.failed} of ${v.finished} orders on ${v.exchange} failed in ${t.windowMinutes} min (${pct} %, threshold ${Math.round(t.failureRate * 100)} %)${v.top ? `; most affected account ${maskEmail(v.top)}` : ''}.`,
      });
    }
    out.push({ key: 'error_burst', title: 'Error burst', value: failedTotal, threshold: t.errorBurst, active: failedTotal >= t.errorBurst, message: `${failedTotal} failed orders in ${t.windowMinutes} min (threshold ${t.errorBurst}).` });
    if (t.captureStaleSeconds > 0) {
      const age = (await pool.query<{ age: number | null }>(`SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - max("createdAt"))::float8 AS age FROM "Signal" WHERE source = 'capture'`)).rows[0]!.age;
      if (age !== null) {
        const a = Math.round(age);
        out.push({ key: 'capture_stale', title: 'Capture stale', value: a, threshold: t.captureStaleSeconds, active: a >= t.captureStaleSeconds, message: `No captured signal for ${a} s (threshold ${t.captureStaleSeconds} s).` });
      }
    }
    return out;
  }

  /** Applies one reading: a start or a clear becomes one event for every admin; otherwise only the figure is updated. */
  private async apply(r: Reading, since = new Date()): Promise<void> {
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO "NotificationAlertState" (key, active) VALUES ($1, false) ON CONFLICT (key) DO NOTHING`, [r.key]);
      const changed = (await client.query<{ since: Date; sinceText: string }>(
        `UPDATE "NotificationAlertState" SET active = $2, value = $3, threshold = $4, message = $5, "updatedAt" = now(),
           since = CASE WHEN $2 THEN $6::timestamptz AT TIME ZONE 'UTC' ELSE since END
         WHERE key = $1 AND active <> $2 RETURNING since, to_char(since, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "sinceText"`,
        [r.key, r.active, r.value, r.threshold, r.message, since.toISOString()])).rows[0];
      if (!changed) {
        await client.query(`UPDATE "NotificationAlertState" SET value = $2, "updatedAt" = now() WHERE key = $1`, [r.key, r.value]);
        await client.query('COMMIT');
        return;
      }
      const admins = (await client.query<{ id: string }>(`SELECT id FROM "User" WHERE role = 'ADMIN'`)).rows.map((a) => a.id);
      const state = r.active ? 'raised' : 'cleared';
      const payload = { key: r.key, title: r.title, state, value: r.value, threshold: r.threshold, message: r.message, since: changed.sinceText };
      // One event per admin: the outbox is unique per (event id, channel), and each admin's endpoint deduplicates on its own ids.
      await enqueue(client, (await recipients(client, admins)).map((recipient) => ({
        recipient, event: { eventId: `alert:${r.key}:${changed.sinceText}:${state}:${recipient.userId}`, kind: 'admin.alert' as const, payload },
      })));
      await client.query('COMMIT');
      this.deps.log.warn({ key: r.key, state, value: r.value, threshold: r.threshold }, 'operator alert');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
