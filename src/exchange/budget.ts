/**
 * VenueBudget: one request budget per venue, shared by every ccxt instance the server creates (the
 * executor's orders, test-keys, chart candles, monitor tickers) and, through Redis when configured, by
 * every process. Venues limit request weight per IP, not per key (Binance: 6000 weight per minute; over
 * it 429, then a 418 ban of the IP for every user), so one noisy feature must never spend what orders need.
 *
 * Model: fixed one-minute windows aligned to UTC minutes, as Binance counts them. Each call costs ccxt's
 * own per-endpoint cost (Binance: 0.2 per unit of request weight, so 1200 units = 6000 weight; where an
 * endpoint is unknown ccxt charges 1, a conservative default). A window holds `limit` units (the per-venue
 * setting, else `percent` of ccxt's figure for the venue, 60000 / rateLimit). Order traffic may fill the
 * whole window; the monitor's prices and every other caller only their shares, so orders always keep the rest.
 * When a venue answers 429/418 (or Bybit's 403 "too frequent") every non-order caller waits for its
 * Retry-After; a 418 (the IP is banned) holds orders back too, since each request lengthens the ban.
 * A caller that would wait longer than its bound gets ExchangeBusy at once, before anything is sent.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ExchangeError } from './errors.js';

/**
 * Which share of the window a caller may fill: 'order' = the executor's order path (markets, venue prices,
 * balances, orders, lookups): all of it; 'prices' = the trade monitor's tickers and market lists: halfway
 * between the non-order share and all; 'other' (test-keys, charts): the non-order share. One counter, three
 * ceilings: a flood of 'other' calls leaves the monitor its slice, and neither can reach the orders' last slice.
 */
export type Traffic = 'order' | 'prices' | 'other';

/** Budget settings (config.exchangeBudget). */
export interface BudgetSettings {
  /** Share (%) of the venue's limit (ccxt: 60000 / rateLimit units per minute) spent when no per-venue value is set. */
  readonly percent: number;
  /** Exchange id → units per minute, overriding `percent` (ccxt cost units; Binance: 1 unit = 5 request weight). */
  readonly perVenue: Readonly<Record<string, number>>;
  /** Share (%) of each window that 'other' calls may fill; 'prices' up to halfway to 100; orders all of it. */
  readonly otherPercent: number;
  /** Longest a non-order call waits for budget (ms) before it fails with ExchangeBusy. */
  readonly maxWaitMs: number;
}

export const DEFAULT_BUDGET_SETTINGS: BudgetSettings = Object.freeze({ percent: 80, perVenue: Object.freeze({}), otherPercent: 50, maxWaitMs: 2000 });

/** What operators should see: calls refused unsent, and venues telling us to slow down. */
export interface BudgetEvents {
  refused?(venue: string, traffic: Traffic, reason: 'budget' | 'paused'): void;
  paused?(venue: string, scope: 'other' | 'all', ms: number, status: number): void;
}

/** One venue as the budget sees it: `key` names its counters (exchange id, plus the origin when overridden). */
export interface VenueRef { id: string; key: string; limit: number }

const WINDOW_MS = 60_000;
/** Costs are counted in thousandths of a unit, as integers (Binance costs are multiples of 0.2). */
const MILLI = 1000;

/** The budget was not available within the caller's bound; nothing was sent to the venue. */
export class ExchangeBusy extends ExchangeError {
  constructor(venue: string, readonly retryAfterMs: number, why: string) {
    super('temporary', `${venue}: request not sent, ${why}; retry in ${Math.ceil(retryAfterMs / 1000)} s`, 'ExchangeBusy');
    Object.defineProperty(this, 'status', { value: 503 });
    this.name = 'ExchangeBusy';
  }
}

/** Where the counters live: process memory or Redis. `take` answers waitMs 0 (granted) or the ms to wait. */
interface BudgetStore {
  take(venueKey: string, traffic: Traffic, costMilli: number, capMilli: number, now: number): Promise<{ waitMs: number; paused: boolean }>;
  pause(venueKey: string, scope: 'other' | 'all', untilMs: number): Promise<void>;
}

const windowOf = (now: number) => Math.floor(now / WINDOW_MS);
const windowEnd = (now: number) => (windowOf(now) + 1) * WINDOW_MS;

class MemoryStore implements BudgetStore {
  private readonly used = new Map<string, { window: number; milli: number }>();
  private readonly pauses = new Map<string, number>();

  /** Ms the pauses that apply to `traffic` still run (0 when none). */
  pausedFor(venueKey: string, traffic: Traffic, now: number): number {
    const until = Math.max(this.pauses.get(`${venueKey}:all`) ?? 0, traffic !== 'order' ? this.pauses.get(`${venueKey}:other`) ?? 0 : 0);
    return Math.max(0, until - now);
  }

  async take(venueKey: string, traffic: Traffic, costMilli: number, capMilli: number, now: number) {
    const pausedMs = this.pausedFor(venueKey, traffic, now);
    if (pausedMs > 0) return { waitMs: pausedMs, paused: true };
    const window = windowOf(now);
    let w = this.used.get(venueKey);
    if (!w || w.window !== window) { w = { window, milli: 0 }; this.used.set(venueKey, w); }
    // A single call dearer than the whole share still goes through in an empty window (never a deadlock).
    if (w.milli > 0 && w.milli + costMilli > capMilli) return { waitMs: Math.max(1, windowEnd(now) - now), paused: false };
    w.milli += costMilli;
    return { waitMs: 0, paused: false };
  }

  async pause(venueKey: string, scope: 'other' | 'all', untilMs: number) {
    const k = `${venueKey}:${scope}`;
    if ((this.pauses.get(k) ?? 0) < untilMs) this.pauses.set(k, untilMs);
  }
}

// KEYS: window counter, then the pause keys that apply. ARGV: now, cost, cap, window end, counter ttl.
const TAKE_LUA = `
local now = tonumber(ARGV[1])
local pause = 0
for i = 2, #KEYS do local p = tonumber(redis.call('GET', KEYS[i]) or '0') if p > pause then pause = p end end
if pause > now then return {1, pause - now} end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[2])
if used > 0 and used + cost > tonumber(ARGV[3]) then return {0, math.max(1, tonumber(ARGV[4]) - now)} end
redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {0, 0}`;
const PAUSE_LUA = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0`;
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const TAKE_SHA = sha1(TAKE_LUA);
const PAUSE_SHA = sha1(PAUSE_LUA);

/** The same windows in Redis (`<prefix>xb:<venue>:w:<minute>`), so every process spends one budget. */
class RedisStore implements BudgetStore {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private async run(sha: string, lua: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error)?.message ?? '').includes('NOSCRIPT')) throw err;
      return this.redis.eval(lua, keys.length, ...keys, ...args);
    }
  }

  async take(venueKey: string, traffic: Traffic, costMilli: number, capMilli: number, now: number) {
    const base = `${this.prefix}xb:${venueKey}`;
    const keys = [`${base}:w:${windowOf(now)}`, `${base}:pause:all`];
    if (traffic !== 'order') keys.push(`${base}:pause:other`);
    const [paused, wait] = (await this.run(TAKE_SHA, TAKE_LUA, keys, [now, costMilli, capMilli, windowEnd(now), 2 * WINDOW_MS])) as [number, number];
    return { waitMs: Number(wait), paused: Number(paused) === 1 };
  }

  async pause(venueKey: string, scope: 'other' | 'all', untilMs: number) {
    const ms = Math.max(1, untilMs - Date.now());
    await this.run(PAUSE_SHA, PAUSE_LUA, [`${this.prefix}xb:${venueKey}:pause:${scope}`], [untilMs, ms]);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The per-venue budget. One per app (AppContext.exchangeBudget); its counters are shared through Redis. */
export class VenueBudget {
  private readonly local = new MemoryStore();
  private redisFailedAt = 0;

  constructor(
    readonly settings: BudgetSettings,
    private readonly store: BudgetStore | undefined,
    private readonly onStoreError: (err: unknown) => void = () => {},
    private readonly events: BudgetEvents = {},
  ) {}

  /** Units per window for `venueId`: the per-venue setting, else `percent` of ccxt's 60000 / rateLimit. */
  limitFor(venueId: string, rateLimitMs: number): number {
    const set = this.settings.perVenue[venueId];
    if (set !== undefined && set > 0) return set;
    return (WINDOW_MS / Math.max(1, rateLimitMs || 50)) * (this.settings.percent / 100);
  }

  /**
   * Resolves once `cost` units may be spent on `venue` by `traffic`; waits at most `maxWaitMs`,
   * else throws ExchangeBusy (nothing sent). Non-order traffic stops at its share of the window.
   */
  async acquire(venue: VenueRef, cost: number, traffic: Traffic, maxWaitMs: number): Promise<void> {
    const costMilli = Math.max(1, Math.round((Number.isFinite(cost) && cost > 0 ? cost : 1) * MILLI));
    const capMilli = Math.max(1, Math.floor(venue.limit * this.share(traffic) * MILLI));
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const now = Date.now();
      const { waitMs, paused } = await this.take(venue.key, traffic, costMilli, capMilli, now);
      if (waitMs <= 0) return;
      if (now + waitMs > deadline) {
        this.events.refused?.(venue.key, traffic, paused ? 'paused' : 'budget');
        throw new ExchangeBusy(venue.id, waitMs, paused
          ? 'the exchange asked us to slow down (rate limit) and the pause is still running'
          : `this minute's request budget${traffic !== 'order' ? ' for non-order calls (orders keep the rest)' : ''} is spent`);
      }
      await sleep(waitMs);
    }
  }

  /** Fraction of a window `traffic` may fill. */
  share(traffic: Traffic): number {
    const other = Math.min(100, Math.max(0, this.settings.otherPercent)) / 100;
    return traffic === 'order' ? 1 : traffic === 'prices' ? (1 + other) / 2 : other;
  }

  /** The venue answered "too many requests": hold back non-order callers ('other') or everyone ('all') for `ms`. */
  async pause(venue: VenueRef, scope: 'other' | 'all', ms: number, status = 429): Promise<void> {
    const until = Date.now() + Math.max(0, ms);
    this.events.paused?.(venue.key, scope, ms, status);
    await this.local.pause(venue.key, scope, until);
    if (!this.store) return;
    try { await this.store.pause(venue.key, scope, until); } catch (err) { this.storeFailed(err); }
  }

  private async take(key: string, traffic: Traffic, costMilli: number, capMilli: number, now: number) {
    // This process's own pauses apply at once, before Redis has them (and if Redis is down).
    const pausedMs = this.local.pausedFor(key, traffic, now);
    if (pausedMs > 0) return { waitMs: pausedMs, paused: true };
    if (this.store) {
      try { return await this.store.take(key, traffic, costMilli, capMilli, now); } catch (err) { this.storeFailed(err); }
    }
    // No Redis (or Redis failing): count in this process, so a Redis outage never stops orders.
    return this.local.take(key, traffic, costMilli, capMilli, now);
  }

  private storeFailed(err: unknown) {
    if (Date.now() - this.redisFailedAt > 10_000) { this.redisFailedAt = Date.now(); this.onStoreError(err); }
  }
}

/** The app's budget: counters in Redis when given (shared by every process), else in this process. */
export function createVenueBudget(opts: { redis?: Redis; prefix: string; settings?: BudgetSettings; onStoreError?: (err: unknown) => void; events?: BudgetEvents }): VenueBudget {
  return new VenueBudget(opts.settings ?? DEFAULT_BUDGET_SETTINGS, opts.redis ? new RedisStore(opts.redis, opts.prefix) : undefined, opts.onStoreError, opts.events);
}

let fallback: VenueBudget | undefined;
/** For ccxt instances created without a budget (isolated use, scripts): one in-memory budget per process. */
export function processBudget(): VenueBudget {
  return (fallback ??= createVenueBudget({ prefix: '' }));
}
