/**
 * PriceDemand (monitor process): which pairs the price feed polls beyond the watched trades, and the
 * reference exchange's market list that filters them. A pair is polled when
 *   - a signal was accepted on it recently (`signal.accepted`, and the recent signal log on start),
 *   - a signal arrived for it without a fresh price (`monitor.interest` from any api process), or
 *   - a strategy declares it (reloaded every `declaredReloadMs`, and at once when `strategy.changed` says
 *     an author edited a strategy),
 * and the market list says it is listed (unlisted pairs are never polled: each would make the ticker
 * source reload the whole market list). The list is loaded on start (retried with back-off while the
 * exchange cannot be reached, e.g. offline), reloaded every MARKETS_RELOAD_MS, and sooner (at most every
 * `unlistedReloadMs`) when a signal names a pair it lacks. Each load is shared through Redis.
 */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { TOPICS, type Bus } from '../bus/index.js';
import type { MarketListSource } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import { MarketList } from '../signals/index.js';
import { PairInterest } from './interest.js';
import { MONITOR_TOPICS, type InterestMessage, type MarketsSnapshot } from './reference-prices.js';

/** Regular market-list reload period. */
const MARKETS_RELOAD_MS = 30 * 60_000;
/** A pair stays polled this long after its last signal. */
const INTEREST_TTL_MS = 6 * 3600_000;
/** At most this many pairs of interest (declared pairs come on top). */
const INTEREST_MAX = 2000;
/** On start, pairs of this many most recent signals are of interest. */
const RECENT_SIGNALS = 5000;

export interface PriceDemandDeps {
  pool: pg.Pool;
  bus: Bus;
  /** When set, each market-list load is shared under `marketsKey` (and announced on the bus). */
  redis?: Redis;
  marketsKey: string;
  exchange: string;
  markets: MarketListSource;
  log: Logger;
  declaredReloadMs: number;
  unlistedReloadMs: number;
}

export class PriceDemand {
  readonly interest = new PairInterest(INTEREST_TTL_MS, INTEREST_MAX);
  private declared = new Set<string>();
  private declaring?: Promise<void>;
  private list?: MarketList;
  private loading?: Promise<void>;
  private lastAttemptAt = 0;
  private failures = 0;
  private timers = new Set<NodeJS.Timeout>();
  /** The one scheduled market-list reload (a forced reload replaces it). */
  private reloadTimer?: NodeJS.Timeout;
  private unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly deps: PriceDemandDeps) {}

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.deps.bus.subscribe(TOPICS.signalAccepted, (m) => { const pair = (m as { signal?: { pair?: unknown } }).signal?.pair; if (typeof pair === 'string') this.note(pair); }),
      this.deps.bus.subscribe(MONITOR_TOPICS.interest, (m) => {
        const msg = m as InterestMessage;
        if (msg?.exchange !== this.deps.exchange || typeof msg.pair !== 'string') return;
        if (msg.unlisted) this.noteUnlisted(msg.pair); else this.note(msg.pair);
      }),
      this.deps.bus.subscribe(TOPICS.strategyChanged, () => void this.loadDeclared()),
    );
    await this.loadRecent().catch((err) => this.deps.log.warn({ err }, 'loading recently signalled pairs failed'));
    this.everyDeclared();
    void this.reloadMarkets();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.loading, this.declaring]);
  }

  /** The listed markets, once loaded. */
  markets(): MarketList | undefined { return this.list; }

  /** Pairs to poll besides the watched ones: of interest or declared, and listed. None before the list is known. */
  pairs(): string[] {
    const list = this.list;
    if (!list) return [];
    const out = new Set<string>();
    for (const p of this.interest.pairs()) if (list.has(p)) out.add(p);
    for (const p of this.declared) if (list.has(p)) out.add(p);
    return [...out];
  }

  /** A signal on `pair` (accepted, or arrived without a fresh price). */
  note(pair: string): void { this.interest.add(pair); }

  /** A signal named a pair the list lacks: reload the list unless that was tried within `unlistedReloadMs`. */
  noteUnlisted(pair: string): void {
    if (!this.list || this.list.has(pair) || Date.now() - this.lastAttemptAt < this.deps.unlistedReloadMs) return;
    void this.reloadMarkets();
  }

  /** Loads the market list now (concurrent calls share one load). Failures are logged and retried. */
  reloadMarkets(): Promise<void> {
    return (this.loading ??= this.loadMarkets().finally(() => { this.loading = undefined; }));
  }

  private async loadMarkets(): Promise<void> {
    if (this.stopped) return;
    this.lastAttemptAt = Date.now();
    let next: number;
    try {
      const markets = await this.deps.markets.load(this.deps.exchange);
      const loadedAt = Date.now();
      const rows = markets.map((m) => [m.symbol, m.base, m.quote, m.id] as const);
      this.list = new MarketList(rows, loadedAt);
      this.failures = 0;
      next = MARKETS_RELOAD_MS;
      this.deps.log.info({ exchange: this.deps.exchange, markets: this.list.size }, 'reference market list loaded');
      await this.share({ exchange: this.deps.exchange, loadedAt, markets: rows.map((r) => [...r]) });
    } catch (err) {
      this.failures++;
      next = Math.min(MARKETS_RELOAD_MS, 5000 * 2 ** Math.min(this.failures - 1, 10));
      // Offline (the quick start) this fails for as long as the process runs: say so once, then quietly.
      const level = this.failures === 1 ? 'warn' : 'debug';
      this.deps.log[level]({ err, exchange: this.deps.exchange, failures: this.failures, retryInMs: next }, 'reference market list unavailable; pairs and tickers are not checked against it');
    }
    if (this.reloadTimer) { clearTimeout(this.reloadTimer); this.timers.delete(this.reloadTimer); }
    this.reloadTimer = this.later(next, () => void this.reloadMarkets());
  }

  private async share(snapshot: MarketsSnapshot): Promise<void> {
    if (!this.deps.redis) return;
    try {
      await this.deps.redis.set(this.deps.marketsKey, JSON.stringify(snapshot), 'PX', MARKETS_RELOAD_MS * 4);
      await this.deps.bus.publish(MONITOR_TOPICS.markets, { exchange: snapshot.exchange, loadedAt: snapshot.loadedAt });
    } catch (err) {
      this.deps.log.warn({ err }, 'sharing the reference market list failed');
    }
  }

  /** Pairs of the most recent signals: they were of interest just before a restart. */
  private async loadRecent(): Promise<void> {
    const { rows } = await this.deps.pool.query<{ pair: string }>(
      `SELECT DISTINCT pair FROM "Signal" WHERE seq > (SELECT value FROM "SeqCounter" WHERE id = 1) - $1`, [RECENT_SIGNALS]);
    for (const r of rows) this.note(r.pair);
  }

  private everyDeclared(): void {
    if (this.stopped) return;
    void this.loadDeclared().finally(() => this.later(this.deps.declaredReloadMs, () => this.everyDeclared()));
  }

  /** Every pair some strategy declares (one query; concurrent calls share it). */
  private loadDeclared(): Promise<void> {
    return (this.declaring ??= this.deps.pool.query<{ pair: string }>(`SELECT DISTINCT p AS pair FROM "Strategy", unnest(pairs) AS p`)
      .then(({ rows }) => { this.declared = new Set(rows.map((r) => r.pair)); })
      .catch((err) => this.deps.log.warn({ err }, 'loading declared pairs failed'))
      .finally(() => { this.declaring = undefined; }));
  }

  private later(ms: number, f: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const t = setTimeout(() => { this.timers.delete(t); f(); }, ms);
    t.unref?.();
    this.timers.add(t);
    return t;
  }
}
