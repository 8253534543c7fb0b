/**
 * ReferencePrices: the reference market (MONITOR_EXCHANGE) as the accept path reads it, from memory only.
 *  - In a process with the monitor role (`npm start`), it reads the trade monitor's price feed and market
 *    list directly, and a pair without a fresh price goes straight into the feed's interest.
 *  - In an api process without the monitor, it keeps an in-memory copy of what the monitor shares: every
 *    poll's prices (bus topic `monitor.prices`, and the Redis hash `${prefix}monitor:prices:${exchange}`
 *    re-read every `refreshMs` in case a bus message was lost) and the market list (Redis key
 *    `${prefix}monitor:markets:${exchange}`, re-read when `monitor.markets` announces a new load). Interest
 *    in a pair travels to the monitor as `monitor.interest`.
 *  - With neither (no monitor, no Redis), nothing is known: every signal is accepted unverified.
 * A price counts only while younger than `maxAgeMs` (PRICE_MAX_AGE_MS).
 */
import type { Redis } from 'ioredis';
import type { Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';
import { MarketList, type ReferenceMarket, type ReferencePrice } from '../signals/index.js';

/** Bus topics between the monitor and the api processes. */
export const MONITOR_TOPICS = {
  /** One poll's prices: PricesMessage. */
  prices: 'monitor.prices',
  /** A new market list is in Redis: { exchange, loadedAt }. */
  markets: 'monitor.markets',
  /** A signal needs a price for a pair (or named an unlisted one): InterestMessage. */
  interest: 'monitor.interest',
} as const;

export interface PricesMessage { exchange: string; at: number; prices: Record<string, number> }
export interface InterestMessage { exchange: string; pair: string; unlisted?: boolean }
export interface MarketsSnapshot { exchange: string; loadedAt: number; markets: string[][] }

/** What the monitor in this process offers (see TradeMonitor). */
export interface LocalPriceSource {
  price(pair: string): { last: number; receivedAt: number } | undefined;
  markets(): MarketList | undefined;
  noteInterest(pair: string): void;
  noteUnlisted(pair: string): void;
}

/** A bus message about one pair is sent at most this often per pair from one process. */
const NOTE_EVERY_MS = 5000;
/** The shared market list is re-read at least this often (besides the bus announcements). */
const MARKETS_REFRESH_MS = 5 * 60_000;

export class ReferencePrices implements ReferenceMarket {
  private local?: LocalPriceSource;
  private readonly shared = new Map<string, ReferencePrice>();
  private list?: MarketList;
  private readonly noted = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void)[] = [];
  private started = false;

  constructor(private readonly deps: {
    exchange: string;
    maxAgeMs: number;
    bus: Bus;
    /** The app's Redis client: shared prices and market list (absent: one process, or nothing to share). */
    redis?: Redis;
    pricesKey: string;
    marketsKey: string;
    /** How often an api process re-reads the shared prices hash. */
    refreshMs: number;
    log: Logger;
  }) {}

  get exchange(): string { return this.deps.exchange; }

  /** Reads this process's monitor directly (called by the monitor module before start). */
  attachLocal(source: LocalPriceSource): void { this.local = source; }

  /** Without a local monitor: subscribes to the shared prices and market list. */
  async start(): Promise<void> {
    if (this.local || !this.deps.redis || this.started) return;
    this.started = true;
    const { bus } = this.deps;
    this.unsubscribe.push(
      bus.subscribe(MONITOR_TOPICS.prices, (m) => this.onPrices(m as PricesMessage)),
      bus.subscribe(MONITOR_TOPICS.markets, (m) => { if ((m as { exchange?: string })?.exchange === this.deps.exchange) void this.refreshMarkets(); }),
    );
    await Promise.all([this.refreshPrices(), this.refreshMarkets()]);
    this.timers.push(
      setInterval(() => void this.refreshPrices(), this.deps.refreshMs),
      setInterval(() => void this.refreshMarkets(), MARKETS_REFRESH_MS),
    );
    for (const t of this.timers) t.unref?.();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.started = false;
  }

  price(pair: string): ReferencePrice | undefined {
    let p: ReferencePrice | undefined;
    if (this.local) { const v = this.local.price(pair); p = v && { last: v.last, at: v.receivedAt }; } else p = this.shared.get(pair);
    return p && Date.now() - p.at <= this.deps.maxAgeMs && p.last > 0 ? p : undefined;
  }

  markets(): MarketList | undefined { return this.local ? this.local.markets() : this.list; }

  noteInterest(pair: string): void {
    if (this.local) { this.local.noteInterest(pair); return; }
    this.tell(pair, false);
  }

  noteUnlisted(pair: string): void {
    if (this.local) { this.local.noteUnlisted(pair); return; }
    this.tell(pair, true);
  }

  /** Tells the monitor process (throttled per pair, so a burst of signals sends one message). */
  private tell(pair: string, unlisted: boolean): void {
    if (!this.deps.redis) return;
    const key = `${unlisted ? 'u' : 'i'}|${pair}`;
    const now = Date.now();
    if (now - (this.noted.get(key) ?? 0) < NOTE_EVERY_MS) return;
    if (this.noted.size > 10_000) this.noted.clear();
    this.noted.set(key, now);
    const msg: InterestMessage = { exchange: this.deps.exchange, pair, ...(unlisted ? { unlisted } : {}) };
    this.deps.bus.publish(MONITOR_TOPICS.interest, msg).catch((err) => this.deps.log.warn({ err }, 'asking the monitor for a price failed'));
  }

  private onPrices(m: PricesMessage): void {
    if (m?.exchange !== this.deps.exchange || !m.prices || !Number.isFinite(m.at)) return;
    for (const [pair, last] of Object.entries(m.prices)) this.keep(pair, Number(last), m.at);
  }

  private keep(pair: string, last: number, at: number): void {
    if (!Number.isFinite(last) || last <= 0 || !Number.isFinite(at)) return;
    const before = this.shared.get(pair);
    if (!before || before.at <= at) this.shared.set(pair, { last, at });
  }

  private async refreshPrices(): Promise<void> {
    try {
      const all = await this.deps.redis!.hgetall(this.deps.pricesKey);
      const now = Date.now();
      for (const [pair, v] of Object.entries(all)) {
        let p: { last?: unknown; at?: unknown };
        try { p = JSON.parse(v) as typeof p; } catch { continue; } // one bad field never hides the others
        this.keep(pair, Number(p?.last), Number(p?.at));
      }
      for (const [pair, p] of this.shared) if (now - p.at > this.deps.maxAgeMs * 2) this.shared.delete(pair);
    } catch (err) {
      this.deps.log.debug({ err }, 'reading shared reference prices failed');
    }
  }

  private async refreshMarkets(): Promise<void> {
    try {
      const raw = await this.deps.redis!.get(this.deps.marketsKey);
      if (!raw) return;
      const snap = JSON.parse(raw) as MarketsSnapshot;
      if (this.list && this.list.loadedAt >= snap.loadedAt) return;
      this.list = new MarketList(snap.markets.map((m) => [m[0]!, m[1]!, m[2]!, m[3] ?? ''] as const), snap.loadedAt);
    } catch (err) {
      this.deps.log.debug({ err }, 'reading the shared market list failed');
    }
  }
}
