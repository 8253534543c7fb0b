/**
 * Exchange clients for orders: one ccxt instance per exchange (built by
 * ccxt-factory.ts, which shares one market list per venue in the process) serves every key: constructing a
 * ccxt.binance costs ~6 ms, too much per job.
 * Its credentials are those of the calling job (key-scope.ts); the per-key client, the only code that sends
 * orders through ccxt, is ccxt-trading-client.ts; the types are in trading-types.ts. ccxt errors become
 * ExchangeError through errors.ts.
 *
 * Vocabulary: clientOrderId = our deterministic stored id (src/execution/ids.ts); the venue's dialect
 * (dialects/) maps it to the id the venue accepts and finds orders by it, so callers never see venue
 * ids or venue names; rules = a market's precision and minimums.
 */
import type { Exchange } from 'ccxt';
import { classifyCcxtError, ExchangeError } from './errors.js';
import type { Traffic, VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { CcxtTradingClient, converted } from './ccxt-trading-client.js';
import { dialectFor, type VenueDialect } from './dialects/index.js';
import { inScope, NO_KEY, scopeCredentials } from './key-scope.js';
import type { TradingClient, VenueQuote } from './trading-types.js';

export type { ExchangeOrder, MarketRules, OrderRequest, ProtectiveRequest, TradingClient, VenueQuote } from './trading-types.js';

/** ccxt errors become ExchangeError in errors.ts (one vocabulary for every exchange call). */
export { classifyCcxtError };

const positive = (v: unknown) => (v !== undefined && v !== null && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : null);

export interface ExchangeClientOptions {
  /** Exchange id → origin replacing every ccxt API origin (EXCHANGE_URL_<ID>). */
  exchangeUrls: Readonly<Record<string, string>>;
  timeoutMs: number;
  recvWindowMs: number;
  marketsTtlMs?: number;
  /** The app's per-venue request budget (AppContext.exchangeBudget); every call of these clients spends it. */
  budget?: VenueBudget;
  /**
   * 'order' only for the executor (its sizing, prices, orders and lookups may use the whole budget and wait
   * up to half the recvWindow for it); anything else ('other', the default) stops at the non-order share.
   */
  traffic?: Traffic;
}

/**
 * Owns one ccxt instance per exchange (built by the factory: budget, timeouts, origin, shared market list)
 * and hands out per-key clients.
 */
export class ExchangeClients {
  private readonly factory: CcxtFactory;
  private readonly bases = new Map<string, { ex: Exchange; dialect: VenueDialect }>();

  constructor(private readonly opts: ExchangeClientOptions) {
    this.factory = new CcxtFactory({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, recvWindowMs: opts.recvWindowMs, marketsTtlMs: opts.marketsTtlMs, budget: opts.budget });
  }

  private base(exchangeId: string): { ex: Exchange; dialect: VenueDialect } {
    const known = this.bases.get(exchangeId);
    if (known) return known;
    const dialect = dialectFor(exchangeId);
    const traffic = this.opts.traffic ?? 'other';
    // An order waits for budget before it is signed, yet its timestamp is pinned earlier (signedAt): half the
    // recvWindow leaves the other half for the trip.
    const ex = dialect && this.factory.create(exchangeId, { traffic, maxWaitMs: traffic === 'order' ? Math.floor(this.opts.recvWindowMs / 2) : undefined });
    if (!dialect || !ex) throw new ExchangeError('rejected', `unsupported exchange ${exchangeId}`, 'NotSupported');
    // ccxt calls loadMarkets() inside every method: scopeCredentials also keeps a reload started there (the
    // shared list's background refresh) from signing with the key of the job that happened to trigger it.
    scopeCredentials(ex);
    const b = { ex, dialect };
    this.bases.set(exchangeId, b);
    return b;
  }

  /** Whether the exchange's market list is loaded in this instance (ensureMarkets would return at once). */
  marketsFresh(exchangeId: string): boolean {
    const b = this.bases.get(exchangeId);
    return !!b && this.factory.marketsLoaded(b.ex);
  }

  /**
   * Loads the exchange's markets (once per process and venue; an old list is refreshed in the background).
   * Throws ExchangeError: rejected for a venue without a dialect, temporary when the list cannot be loaded.
   */
  async ensureMarkets(exchangeId: string): Promise<void> {
    const b = this.base(exchangeId);
    await converted(() => b.ex.loadMarkets(), b.dialect);
  }

  /** Closes the instances and drops the market lists they loaded. */
  async close(): Promise<void> {
    this.bases.clear();
    await this.factory.close();
  }

  /**
   * The market's public ticker (no keys; Binance spot: GET /api/v3/ticker/24hr?symbol=, weight 2), through
   * the same ccxt instance as the orders. Loads the markets first when needed. Throws ExchangeError.
   */
  async ticker(exchangeId: string, symbol: string): Promise<VenueQuote> {
    await this.ensureMarkets(exchangeId);
    const { ex, dialect } = this.bases.get(exchangeId)!;
    // An empty scope: a public call must never carry (or sign with) the credentials of a job in progress.
    const t = await inScope(NO_KEY, () => converted(() => ex.fetchTicker(symbol), dialect));
    return { symbol, bid: positive(t.bid), ask: positive(t.ask), last: positive(t.last ?? t.close), at: Date.now() };
  }

  /** A client for one API key (call ensureMarkets first). The key material lives only in this object. */
  forKey(exchangeId: string, apiKey: string, secret: string): TradingClient {
    const base = this.bases.get(exchangeId);
    if (!base || !this.marketsFresh(exchangeId)) throw new ExchangeError('temporary', `markets of ${exchangeId} not loaded`, 'NotLoaded');
    return new CcxtTradingClient(base.ex, base.dialect, { apiKey, secret });
  }
}
