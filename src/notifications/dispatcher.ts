/**
 * Dispatcher: one delivery loop per channel, separate from the executor and from each other. Each loop
 * has its own slots (bounded concurrency), so a slow channel fills only its own slots, and a per-user
 * cap inside a channel, so one slow endpoint cannot take every slot of its channel. A unit of work is
 * one row (webhook, email) or, for Telegram, every due row of one chat: a burst becomes one message.
 * Failures back off exponentially per row (Telegram: the retry_after it answers); rows older than
 * NOTIFY_MAX_AGE_HOURS die and stay visible in the user's delivery log.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../lib/logger.js';
import type { Channel } from './events.js';
import type { NotificationMetrics } from './metrics.js';
import { claim, markFailed, markSent, release, type OutboxRow } from './outbox.js';
import { PermanentError } from './channels/webhook.js';

/** Where a user's messages go, read at send time (a channel unlinked meanwhile is not used). */
export interface Target { userId: string; email: string; emailEnabled: boolean; telegramChatId: string | null; webhookUrl: string | null; webhookSecretEnc: string | null }

/** A channel's sender: delivers one unit (rows of one user) or throws. */
export interface ChannelSender {
  channel: Channel;
  /** Units in flight at once. */
  concurrency: number;
  /** Units of one user in flight at once. */
  perUser: number;
  /** Rows claimed per unit (Telegram batches; others send one row per unit). */
  batch: boolean;
  /** ms to wait before this user's next unit may go (Telegram: 1 message/s per chat); 0 = now. */
  holdMs?(userId: string): number;
  send(target: Target, rows: OutboxRow[]): Promise<void>;
}

/** An error carrying how long to wait before the next try (Telegram 429 retry_after). */
export class RetryAfterError extends Error {
  constructor(message: string, readonly retryAfterMs: number) { super(message); }
}

export interface DispatcherOptions {
  pool: pg.Pool; log: Logger; metrics: NotificationMetrics; pollMs: number; leaseMs: number; retryBaseMs: number; retryMaxMs: number; maxAgeMs: number;
}

export class Dispatcher {
  readonly workerId = `notify-${process.pid}-${randomUUID().slice(0, 8)}`;
  private running = false;
  private inflight = 0;
  private readonly perUser = new Map<string, number>();
  private wakeup?: () => void;
  private loop?: Promise<void>;
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly sender: ChannelSender, private readonly opts: DispatcherOptions, private readonly targets: (userIds: string[]) => Promise<Map<string, Target>>) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** New rows may be due: claim now instead of at the next poll. */
  wake(): void { this.wakeup?.(); }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.tasks]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wakeup = undefined; resolve(); }, ms);
      this.wakeup = () => { clearTimeout(t); this.wakeup = undefined; resolve(); };
    });
  }

  private async run(): Promise<void> {
    const { sender, opts } = this;
    while (this.running) {
      const free = sender.concurrency - this.inflight;
      if (free <= 0) { await this.sleep(opts.pollMs); continue; }
      let rows: OutboxRow[];
      try {
        rows = await claim(opts.pool, sender.channel, this.workerId, sender.batch ? Math.max(free * 50, 500) : free, opts.leaseMs);
      } catch (err) {
        opts.log.warn({ err, channel: sender.channel }, 'notification claim failed');
        await this.sleep(opts.pollMs);
        continue;
      }
      if (!rows.length) { await this.sleep(opts.pollMs); continue; }
      const units = new Map<string, OutboxRow[]>();
      for (const r of rows) {
        const key = sender.batch ? r.userId : r.id;
        units.set(key, [...(units.get(key) ?? []), r]);
      }
      const targets = await this.targets([...new Set(rows.map((r) => r.userId))]).catch((err) => {
        opts.log.warn({ err, channel: sender.channel }, 'notification targets lookup failed');
        return undefined;
      });
      if (!targets) { await release(opts.pool, rows.map((r) => r.id), this.workerId, opts.pollMs).catch(() => {}); await this.sleep(opts.pollMs); continue; }
      for (const unit of units.values()) {
        const userId = unit[0]!.userId;
        const hold = sender.holdMs?.(userId) ?? 0;
        const busy = (this.perUser.get(userId) ?? 0) >= sender.perUser;
        if (hold > 0 || busy || this.inflight >= sender.concurrency) {
          // Not an attempt: back in the queue, where more rows of this user can join it (batching).
          await release(opts.pool, unit.map((r) => r.id), this.workerId, Math.max(hold, busy ? 200 : 50)).catch(() => {});
          continue;
        }
        this.inflight++;
        this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1);
        const task = this.deliver(targets.get(userId), unit).finally(() => {
          this.inflight--;
          const n = (this.perUser.get(userId) ?? 1) - 1;
          if (n > 0) this.perUser.set(userId, n); else this.perUser.delete(userId);
          this.tasks.delete(task);
          this.wake();
        });
        this.tasks.add(task);
      }
    }
  }

  private async deliver(target: Target | undefined, rows: OutboxRow[]): Promise<void> {
    const { sender, opts } = this;
    const ids = rows.map((r) => r.id);
    const started = Date.now();
    try {
      if (!target || !linked(target, sender.channel)) throw new PermanentError(`${sender.channel} is not linked any more`);
      await sender.send(target, rows);
      await markSent(opts.pool, ids, this.workerId);
      for (const r of rows) {
        opts.metrics.sent(sender.channel, r.kind);
        opts.metrics.delivery(sender.channel, (Date.now() - r.createdAt.getTime()) / 1000);
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      const permanent = err instanceof PermanentError;
      const attempts = Math.max(...rows.map((r) => r.attempts));
      const backoff = Math.min(opts.retryMaxMs, opts.retryBaseMs * 2 ** Math.min(attempts - 1, 20)) * (0.8 + Math.random() * 0.4);
      const delay = err instanceof RetryAfterError ? Math.max(err.retryAfterMs, 0) : backoff;
      opts.metrics.failed(sender.channel);
      opts.log.warn({ channel: sender.channel, rows: rows.length, attempts, permanent, error: message, ms: Date.now() - started }, 'notification delivery failed');
      await markFailed(opts.pool, ids, this.workerId, message, delay, opts.maxAgeMs, permanent).catch((e) => opts.log.warn({ err: e }, 'notification mark failed'));
    }
  }
}

function linked(t: Target, channel: Channel): boolean {
  return channel === 'telegram' ? !!t.telegramChatId : channel === 'email' ? t.emailEnabled : !!(t.webhookUrl && t.webhookSecretEnc);
}
