/**
 * PriceFeed: one polling loop per monitored exchange. Every `intervalMs` it asks the TickerSource for
 * the pairs that have watched trades, and those whose signals' prices are checked at acceptance (one
 * batched request, shared by every trade on every pair), turns each changed quote into a PriceTick for
 * the monitor, and hands the whole poll to `onPolled` (each price with the time it was received: the
 * reference prices' age counts from there, whether or not the price moved).
 *
 * What a tick knows: the ticker's last price, plus a range since the previous poll inferred from the
 * exchange's rolling 24 h high/low. The 24 h values are not the range of the interval, but a *new*
 * 24 h high (low) can only have been set since the previous poll, so it is the highest (lowest) price
 * of the interval; otherwise the range is just the last price. Unchanged pairs produce no tick.
 */
import type { Logger } from '../lib/logger.js';
import type { TickerQuote, TickerSource } from '../exchange/index.js';
import type { PriceTick } from './trigger-book.js';

/** The newest observation of a pair. */
export interface PairPrice { last: number; high24h: number | null; low24h: number | null; receivedAt: number }

export interface PriceFeedDeps {
  source: TickerSource;
  log: Logger;
  /** The pairs to poll (those with watched trades, and those of interest to the signal checks). */
  pairs(): string[];
  /** Receives the ticks of one poll (only pairs whose price changed). */
  onTicks(ticks: PriceTick[], receivedAt: number): void;
  /** Receives every price of one successful poll (changed or not). */
  onPolled?(prices: ReadonlyMap<string, PairPrice>, receivedAt: number): void;
  onPollError?(err: unknown): void;
}

export class PriceFeed {
  private readonly prices = new Map<string, PairPrice>();
  private readonly warnedUnknown = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failures = 0;
  /** When the last successful poll was received (ms), 0 before the first. */
  lastSuccessAt = 0;
  polls = 0;

  constructor(private readonly deps: PriceFeedDeps, private readonly exchangeId: string, private readonly intervalMs: number) {}

  start(): void {
    this.lastSuccessAt = Date.now(); // the lag counts from start, so a feed that never answers shows up
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The newest price seen for `pair`, if any. */
  price(pair: string): PairPrice | undefined { return this.prices.get(pair); }

  /** All current prices (for publishing to other processes). */
  all(): ReadonlyMap<string, PairPrice> { return this.prices; }

  /** Runs one poll now (also used by the scheduled loop). */
  async pollOnce(): Promise<void> {
    const pairs = this.deps.pairs();
    const wanted = new Set(pairs);
    for (const p of this.prices.keys()) if (!wanted.has(p)) this.prices.delete(p);
    if (!pairs.length) { this.lastSuccessAt = Date.now(); return; }
    const batch = await this.deps.source.fetch(this.exchangeId, pairs);
    const receivedAt = Date.now();
    this.lastSuccessAt = receivedAt;
    this.polls++;
    for (const p of batch.unknown) {
      if (this.warnedUnknown.has(p)) continue;
      this.warnedUnknown.add(p);
      this.deps.log.warn({ exchange: this.exchangeId, pair: p }, 'monitored pair not listed on the exchange; its trades are not priced');
    }
    const ticks: PriceTick[] = [];
    const polled = new Map<string, PairPrice>();
    for (const [pair, q] of batch.quotes) {
      const tick = this.observe(pair, q, receivedAt);
      if (tick) ticks.push(tick);
      polled.set(pair, this.prices.get(pair)!);
    }
    if (ticks.length) this.deps.onTicks(ticks, receivedAt);
    if (polled.size) this.deps.onPolled?.(polled, receivedAt);
  }

  /** Records a quote; returns the tick, or null when nothing changed. */
  private observe(pair: string, q: TickerQuote, receivedAt: number): PriceTick | null {
    const before = this.prices.get(pair);
    this.prices.set(pair, { last: q.last, high24h: q.high24h, low24h: q.low24h, receivedAt });
    if (before && before.last === q.last && before.high24h === q.high24h && before.low24h === q.low24h) return null;
    const newHigh = before && before.high24h !== null && q.high24h !== null && q.high24h > before.high24h;
    const newLow = before && before.low24h !== null && q.low24h !== null && q.low24h < before.low24h;
    return {
      pair, last: q.last,
      high: newHigh ? Math.max(q.high24h!, q.last) : q.last,
      low: newLow ? Math.min(q.low24h!, q.last) : q.last,
      prev: before?.last ?? null,
      prevAt: before?.receivedAt ?? null,
    };
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce()
        .then(() => { this.failures = 0; })
        .catch((err) => {
          this.failures++;
          this.deps.onPollError?.(err);
          this.deps.log.warn({ err, exchange: this.exchangeId, failures: this.failures }, 'ticker poll failed; backing off');
        })
        // Back off exponentially while failing (a rate-limited IP that keeps asking gets banned), up to a minute.
        .finally(() => { this.running = undefined; this.schedule(Math.min(60_000, this.intervalMs * 2 ** Math.min(this.failures, 10))); });
    }, delay);
  }
}
