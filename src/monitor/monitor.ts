/**
 * TradeMonitor: watches every open trade that has a stop loss or take profit against live prices and
 * closes it through the SignalCoordinator when a level is crossed.
 * Steps: load the open trades (one snapshot + seq cursor) → poll tickers for the watched pairs → each
 * changed pair's tick pops the crossed levels from the TriggerBook → TradeCloser sends the CLOSEs.
 * The book stays fresh by following the signal log (a SignalLogFollower from the snapshot's seq: woken by
 * `signal.accepted` on the bus, whose message carries the opened trade; gaps and lost messages read by seq;
 * a poll every `syncMs`).
 * The same feed prices the pairs the signal checks need (PriceDemand): this process reads it directly
 * (ReferencePrices); other processes get every poll through Redis and the bus.
 */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Bus } from '../bus/index.js';
import type { TickerSource } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import { SignalLog, SignalLogFollower, type SignalCoordinator, type SignalEffect } from '../signals/index.js';
import { TradeCloser } from './closer.js';
import type { PriceDemand } from './demand.js';
import type { MonitorMetrics } from './metrics.js';
import { PriceFeed, type PairPrice } from './price-feed.js';
import { MONITOR_TOPICS, type PricesMessage } from './reference-prices.js';
import { loadOpenTrades, watched } from './trade-store.js';
import { TriggerBook, type PriceTick, type WatchedTrade } from './trigger-book.js';

export interface MonitorOptions {
  /** ccxt id of the exchange whose prices judge every trade (MONITOR_EXCHANGE). */
  exchange: string;
  intervalMs: number;
  syncMs: number;
  closeConcurrency: number;
  retryBaseMs: number;
}

export interface MonitorDeps {
  pool: pg.Pool;
  bus: Bus;
  coordinator: SignalCoordinator;
  tickers: TickerSource;
  log: Logger;
  metrics: (state: () => { trades: number; pairs: number; feedLagSeconds: number }) => MonitorMetrics;
  /**
   * When set, every poll's prices are shared in a Redis hash (the distance route and the signal checks of
   * other processes) and announced on the bus (`monitor.prices`).
   */
  redis?: Redis;
  pricesKey: string;
  /** Pairs polled for the signal checks besides the watched ones. */
  demand?: PriceDemand;
}

const SYNC_BATCH = 5000;

export class TradeMonitor {
  readonly book = new TriggerBook();
  readonly feed: PriceFeed;
  readonly closer: TradeCloser;
  readonly metrics: MonitorMetrics;
  /** Milliseconds the last poll's evaluation took (for benchmarks). */
  lastEvaluateMs = 0;
  private readonly signals: SignalLogFollower;
  private started = false;

  constructor(private readonly deps: MonitorDeps, private readonly opts: MonitorOptions) {
    this.metrics = deps.metrics(() => ({ trades: this.book.size, pairs: this.book.watchedPairs().length, feedLagSeconds: this.feedLagSeconds() }));
    this.closer = new TradeCloser({ coordinator: deps.coordinator, log: deps.log, metrics: this.metrics, concurrency: opts.closeConcurrency, retryBaseMs: opts.retryBaseMs });
    this.feed = new PriceFeed({
      source: deps.tickers, log: deps.log,
      pairs: () => this.pollPairs(),
      onTicks: (ticks) => this.onTicks(ticks),
      onPolled: (prices, at) => this.publishPrices(prices, at),
      onPollError: () => this.metrics.pollErrors.inc(),
    }, opts.exchange, opts.intervalMs);
    this.signals = new SignalLogFollower({
      name: 'monitor', signalLog: new SignalLog(deps.pool), bus: deps.bus, log: deps.log, pollMs: opts.syncMs, batchSize: SYNC_BATCH,
      from: () => this.loadBook(), handle: (batch) => this.applySignals(batch),
    });
  }

  async start(): Promise<void> {
    this.started = true;
    await this.signals.start();
    await this.deps.demand?.start();
    this.feed.start();
    this.deps.log.info({ trades: this.book.size, pairs: this.book.watchedPairs().length, exchange: this.opts.exchange, cursor: this.signals.cursor }, 'trade monitor started');
  }

  /** The follower's start: every watchable open trade, and the seq that snapshot is consistent with. */
  private async loadBook(): Promise<number> {
    const { cursor, trades } = await loadOpenTrades(this.deps.pool);
    for (const t of trades) this.book.add(t);
    return cursor;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.signals.stop();
    await this.feed.stop();
    await this.deps.demand?.stop();
    await this.closer.stop();
  }

  health() {
    const lag = this.feedLagSeconds();
    const ok = this.book.size === 0 || lag < Math.max(30, (this.opts.intervalMs / 1000) * 5);
    return Promise.resolve({ ok, trades: this.book.size, pairs: this.book.watchedPairs().length, feedLagSeconds: lag, pendingCloses: this.closer.pending });
  }

  /** The pairs polled for the signal checks and the reference market list, if this monitor serves them. */
  get demand(): PriceDemand | undefined { return this.deps.demand; }

  feedLagSeconds(): number {
    return this.feed.lastSuccessAt ? (Date.now() - this.feed.lastSuccessAt) / 1000 : 0;
  }

  /** Applies ticks: crossed trades go to the closer. */
  onTicks(ticks: PriceTick[]): void {
    const started = performance.now();
    const now = Date.now();
    for (const tick of ticks) for (const trigger of this.book.evaluate(tick)) this.closer.enqueue(trigger, now);
    this.lastEvaluateMs = performance.now() - started;
    this.metrics.evaluateSeconds.observe(this.lastEvaluateMs / 1000);
  }

  /** Watched pairs first, then those the signal checks want priced. */
  private pollPairs(): string[] {
    const watched = this.book.watchedPairs();
    const more = this.deps.demand?.pairs();
    if (!more?.length) return watched;
    return [...new Set([...watched, ...more])];
  }

  /** Catches up with the signal log now; resolves when every committed signal is in the book. */
  requestSync(): Promise<void> {
    return this.signals.sync();
  }

  /** The follower's handler: OPENs with a level join the book, CLOSEs leave it. */
  private applySignals(batch: SignalEffect[]): void {
    const added = new Set<string>();
    for (const { signal, opened } of batch) {
      if (signal.action === 'CLOSE') this.book.removeClosed(signal.strategyId, signal.pair, signal.seq);
      else if (opened && this.watch(watched(opened))) added.add(opened.pair);
    }
    // A new trade may already be beyond a level at the current price: judge it without waiting for a move.
    const ticks: PriceTick[] = [];
    for (const pair of added) {
      const p = this.feed.price(pair);
      if (p) ticks.push({ pair, last: p.last, high: p.last, low: p.last, prev: p.last, prevAt: null });
    }
    if (ticks.length) this.onTicks(ticks);
  }

  private watch(t: WatchedTrade): boolean {
    return !this.closer.has(t.id) && this.book.add(t);
  }

  /** Shares one poll's prices, each stamped with when it was received, moved or not (its age counts from there). */
  private publishPrices(prices: ReadonlyMap<string, PairPrice>, at: number): void {
    if (!this.deps.redis || !prices.size) return;
    const fields: Record<string, string> = {};
    const message: PricesMessage = { exchange: this.opts.exchange, at, prices: {} };
    for (const [pair, p] of prices) { fields[pair] = JSON.stringify({ last: p.last, at }); message.prices[pair] = p.last; }
    // The hash expires when no monitor refreshes it, so other processes never show prices long stale.
    this.deps.redis.multi().hset(this.deps.pricesKey, fields).pexpire(this.deps.pricesKey, Math.max(60_000, this.opts.intervalMs * 10)).exec()
      .catch((err) => this.deps.log.warn({ err }, 'publishing monitor prices to redis failed'));
    this.deps.bus.publish(MONITOR_TOPICS.prices, message).catch((err) => this.deps.log.warn({ err }, 'announcing monitor prices failed'));
  }
}
