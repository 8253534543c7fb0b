/**
 * TradeCloser: turns triggers into CLOSE signals through the SignalCoordinator (source 'monitor'),
 * a few at a time. Exactly once, whoever races:
 *   - idempotencyKey `monitor:<tradeId>`: a retry by this or another monitor process is answered
 *     as a duplicate with the first CLOSE;
 *   - expectTradeId: the coordinator closes only that trade (checked under the strategy lock), so a
 *     newer trade on the same pair is never closed by a stale trigger;
 *   - an author CLOSE that won is answered to us as a duplicate (same pair/action/direction) or as
 *     409 NO_OPEN_TRADE: both mean "already closed" and are logged at info.
 * Other failures (database down) are retried with back-off: the crossing was seen, so the trade is
 * still closed at that level once the database answers.
 */
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SignalCoordinator } from '../signals/index.js';
import type { CloseOutcome, MonitorMetrics } from './metrics.js';
import type { Trigger } from './trigger-book.js';

/** How a trigger ended: we closed it, someone (author, other monitor) had already, or it was refused (a bug). */
export type { CloseOutcome };

interface Pending { trigger: Trigger; detectedAt: number; attempts: number }

export class TradeCloser {
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<string, Pending>();
  private readonly waiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: {
    coordinator: SignalCoordinator;
    log: Logger;
    metrics: MonitorMetrics;
    concurrency: number;
    retryBaseMs: number;
  }) {}

  /** True while `tradeId` is queued or being closed. */
  has(tradeId: string): boolean { return this.inflight.has(tradeId); }

  get pending(): number { return this.inflight.size; }

  enqueue(trigger: Trigger, detectedAt = Date.now()): void {
    if (this.stopped || this.inflight.has(trigger.trade.id)) return;
    const p: Pending = { trigger, detectedAt, attempts: 0 };
    this.inflight.set(trigger.trade.id, p);
    this.queue.push(p);
    this.drain();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    return this.inflight.size === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    while (this.active > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private drain(): void {
    while (!this.stopped && this.active < this.deps.concurrency && this.queue.length) {
      const p = this.queue.shift()!;
      this.active++;
      void this.attempt(p).finally(() => { this.active--; this.drain(); });
    }
  }

  private async attempt(p: Pending): Promise<void> {
    p.attempts++;
    try {
      const outcome = await this.close(p.trigger);
      this.deps.metrics.closed(p.trigger.reason, outcome, (Date.now() - p.detectedAt) / 1000);
      this.finish(p);
    } catch (err) {
      if (this.stopped) { this.finish(p); return; }
      const delay = Math.min(30_000, this.deps.retryBaseMs * 2 ** Math.min(p.attempts - 1, 10));
      this.deps.log.warn({ err, tradeId: p.trigger.trade.id, attempts: p.attempts, retryInMs: delay }, 'monitor close failed; will retry');
      const t = setTimeout(() => { this.timers.delete(t); if (!this.stopped) { this.queue.push(p); this.drain(); } }, delay);
      this.timers.add(t);
    }
  }

  private finish(p: Pending): void {
    this.inflight.delete(p.trigger.trade.id);
    if (this.inflight.size === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** One CLOSE through the coordinator; returns how it ended, throws on failures worth retrying. */
  private async close(t: Trigger): Promise<CloseOutcome> {
    const { trade, reason, exitPrice } = t;
    const key = `monitor:${trade.id}`;
    const log = { tradeId: trade.id, strategyId: trade.strategyId, pair: trade.pair, reason, exitPrice, observedPrice: t.observedPrice };
    try {
      const r = await this.deps.coordinator.accept(
        { strategyId: trade.strategyId, pair: trade.pair, action: 'CLOSE', direction: trade.direction, price: exitPrice, reason, idempotencyKey: key },
        // The CLOSE's price is the level; the price the feed saw is the market price stored beside it.
        'monitor', { expectTradeId: trade.id, marketPrice: t.observedPrice },
      );
      if (!r.duplicate) {
        this.deps.log.info({ ...log, signalId: r.signal.id, seq: r.signal.seq }, 'trade closed by monitor');
        return 'closed';
      }
      this.deps.log.info({ ...log, signalId: r.signal.id, byMonitor: r.signal.idempotencyKey === key }, 'trade already closed');
      return 'already_closed';
    } catch (err) {
      if (err instanceof AppError && (err.code === 'NO_OPEN_TRADE' || err.code === 'STRATEGY_NOT_FOUND')) {
        this.deps.log.info({ ...log, code: err.code }, 'trade already closed');
        return 'already_closed';
      }
      if (err instanceof AppError && err.status < 500) {
        this.deps.log.error({ ...log, err }, 'monitor close refused; dropping the trigger');
        return 'refused';
      }
      throw err;
    }
  }
}
