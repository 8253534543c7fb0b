/**
 * The one place ccxt instances are built. A venue (our id: 'binance', 'mexc', 'bybit', or any ccxt id
 * for public market data) and a market type give one ccxt class with its options, and every instance gets:
 *  - the request timeout and the recvWindow of signed requests;
 *  - the venue dialect's ccxt options (dialects/), or spot-only options for venues we only read prices from;
 *  - the per-venue request budget (budgeted-ccxt.ts), tagged with the caller's traffic class;
 *  - the origin override `EXCHANGE_URL_<ID>` (config.exchangeUrls) as a custom `fetchImplementation`
 *    (local-origin.ts): ccxt keeps its real URLs, so its URL-keyed error tables map answers as in production;
 *  - one market list per venue, market type and origin for the whole process (shared-markets.ts).
 * Nothing outside src/exchange constructs ccxt or names a venue's ccxt class.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { Traffic, VenueBudget } from './budget.js';
import { attachBudget } from './budgeted-ccxt.js';
import { dialectFor } from './dialects/index.js';
import { unknownVenue } from './errors.js';
import { redirectFetch } from './local-origin.js';
import { forgetMarkets, marketsLoadedAt, shareMarkets } from './shared-markets.js';

/** Spot now; 'futures' = USDⓈ-margined linear perpetuals where a venue has them (see FUTURES). */
export type MarketType = 'spot' | 'futures';

/** What one venue × market type is in ccxt. */
export interface VenueProfile {
  venue: string;
  market: MarketType;
  /** ccxt class id: Binance futures live in ccxt's `binanceusdm` (fapi), Bybit's in `bybit` itself. */
  ccxtId: string;
  options: Readonly<Record<string, unknown>>;
  /** Adjusts a fresh instance (capability flags ccxt has no option for). */
  configure?: (ex: Exchange) => void;
}

/** Venues without a dialect (chart and reference prices only): spot endpoints, no currency or margin lists. */
const SPOT_READ_ONLY = { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } as const;

/**
 * Futures by venue. Binance: ccxt's binanceusdm (fapi), linear markets only; no currency list (with keys it
 * would call /sapi). Bybit: the same class as spot, linear category, unified account preset so ccxt skips its
 * query-api / account-info pre-calls. MEXC: none (its futures API is not offered to us).
 */
const FUTURES: Readonly<Record<string, { ccxtId: string; options: Readonly<Record<string, unknown>> }>> = {
  binance: { ccxtId: 'binanceusdm', options: { defaultType: 'swap', fetchMarkets: { types: ['linear'] }, fetchCurrencies: false, fetchMargins: false } },
  bybit: { ccxtId: 'bybit', options: { defaultType: 'swap', defaultSubType: 'linear', fetchMarkets: { types: ['linear'] }, enableUnifiedAccount: true, enableUnifiedMargin: false } },
};

const own = <T>(o: Readonly<Record<string, T>>, k: string): T | undefined => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** The ccxt class and options of `venue` on `market`, or undefined when we cannot reach it there. */
export function venueProfile(venue: string, market: MarketType = 'spot'): VenueProfile | undefined {
  const id = venue.toLowerCase();
  if (market === 'futures') {
    const f = own(FUTURES, id);
    return f && { venue: id, market, ccxtId: f.ccxtId, options: f.options };
  }
  if (!(ccxt.exchanges as string[]).includes(id)) return undefined;
  const dialect = dialectFor(id);
  return { venue: id, market, ccxtId: id, options: dialect?.ccxtOptions ?? SPOT_READ_ONLY, configure: dialect?.configure?.bind(dialect) };
}

export interface CcxtFactoryOptions {
  /** Lower-case venue or ccxt id → origin every request of that venue goes to (config.exchangeUrls). */
  exchangeUrls: Readonly<Record<string, string>>;
  /** ccxt request timeout, ms. */
  timeoutMs: number;
  /** recvWindow of signed requests, ms (venues that take one); ccxt's default when absent. */
  recvWindowMs?: number;
  /** Age after which a market list is refreshed in the background, ms (default 1 h). */
  marketsTtlMs?: number;
  /** The app's per-venue request budget; the process's in-memory one when absent. */
  budget?: VenueBudget;
}

export interface CcxtInstanceOptions {
  market?: MarketType;
  /** Budget class of every call of the instance ('order' only for the executor). */
  traffic: Traffic;
  /** Longest a call waits for budget, ms (default the budget's maxWaitMs). */
  maxWaitMs?: number;
}

const DEFAULT_MARKETS_TTL_MS = 3_600_000;

/** Builds ccxt instances; remembers them so close() can release them. */
export class CcxtFactory {
  private readonly made = new Set<Exchange>();
  private readonly keys = new WeakMap<Exchange, string>();
  private readonly perVenueCaches: Map<string, Exchange>[] = [];

  constructor(private readonly opts: CcxtFactoryOptions) {}

  /** The origin requests for this profile go to, when overridden. */
  originOf(p: VenueProfile): string | undefined {
    return own(this.opts.exchangeUrls, p.ccxtId) ?? own(this.opts.exchangeUrls, p.venue);
  }

  /** A new instance for `venue`; undefined when there is no such venue (or not on that market type). */
  create(venue: string, o: CcxtInstanceOptions): Exchange | undefined {
    const p = venueProfile(venue, o.market);
    const Ctor = p && (ccxt as unknown as Record<string, new (config: object) => Exchange>)[p.ccxtId];
    if (!p || typeof Ctor !== 'function') return undefined;
    const origin = this.originOf(p);
    const options = { ...p.options, ...(this.opts.recvWindowMs ? { recvWindow: this.opts.recvWindowMs } : {}) };
    const ex = new Ctor({ enableRateLimit: false, timeout: this.opts.timeoutMs, options, ...(origin ? { fetchImplementation: redirectFetch(origin) } : {}) });
    p.configure?.(ex);
    attachBudget(ex, { budget: this.opts.budget, exchangeId: p.ccxtId, origin, traffic: o.traffic, maxWaitMs: o.maxWaitMs });
    const key = `${p.ccxtId}/${p.market}@${origin ?? 'venue'}`;
    shareMarkets(ex, key, this.opts.marketsTtlMs ?? DEFAULT_MARKETS_TTL_MS);
    this.made.add(ex);
    this.keys.set(ex, key);
    return ex;
  }

  /**
   * One instance per venue (id lower-cased), made with `o` on first use; an unknown venue throws
   * unknownVenue. For the process-wide public readers (tickers, market lists, charts). close() empties it.
   */
  perVenue(o: CcxtInstanceOptions): (venue: string) => Exchange {
    const instances = new Map<string, Exchange>();
    this.perVenueCaches.push(instances);
    return (venue) => {
      const id = venue.toLowerCase();
      let ex = instances.get(id);
      if (ex) return ex;
      ex = this.create(id, o);
      if (!ex) throw unknownVenue(venue, o.market);
      instances.set(id, ex);
      return ex;
    };
  }

  /** Whether the market list `ex` uses has been loaded in this process. */
  marketsLoaded(ex: Exchange): boolean {
    const key = this.keys.get(ex);
    return !!key && marketsLoadedAt(key) > 0 && !!ex.markets;
  }

  /** Closes every instance made here and drops the market lists they loaded. Idempotent. */
  async close(): Promise<void> {
    for (const instances of this.perVenueCaches) instances.clear();
    forgetMarkets(this.made);
    for (const ex of this.made) await (ex.close?.() ?? Promise.resolve()).catch(() => {});
    this.made.clear();
  }
}
