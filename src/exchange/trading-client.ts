/**
 * Trading client: the only file that talks to ccxt for orders. One ccxt instance per exchange (built by
 * ccxt-factory.ts, which shares one market list per venue in the process) serves every key: constructing a
 * ccxt.binance costs ~6 ms, too much per job.
 * Its `apiKey`/`secret` are getters reading the calling job's credentials from an AsyncLocalStorage,
 * and `nonce()` returns the job's pinned timestamp while an order is being signed, so concurrent jobs
 * never see each other's keys. ccxt errors become ExchangeError through errors.ts.
 *
 * Vocabulary: clientOrderId = our deterministic stored id (src/execution/ids.ts); the venue's dialect
 * (dialects/) maps it to the id the venue accepts and finds orders by it, so callers never see venue
 * ids or venue names; rules = a market's precision and minimums.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Exchange } from 'ccxt';
import { classifyCcxtError, ExchangeError } from './errors.js';
import type { Traffic, VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { dialectFor, type VenueDialect } from './dialects/index.js';
import { sleep } from './dialects/types.js';

/** Precision and minimums of one spot market. */
export interface MarketRules {
  symbol: string;
  base: string;
  quote: string;
  minAmount: number;
  minCost: number;
}

/** An order as the exchange reports it. */
export interface ExchangeOrder {
  id: string;
  clientOrderId: string;
  status: string;
  /** Base quantity filled. */
  filled: number;
  amount: number;
  /** Average fill price (quote per base), when filled. */
  average: number | null;
  /**
   * Fees the venue reported with the order (from its fills), by currency. Binance takes a buy's fee from
   * the base received by default, so the account holds `filled` minus that fee. Empty when not reported.
   */
  fees: { currency: string; cost: number }[];
  raw: unknown;
}

export interface OrderRequest {
  symbol: string;
  side: 'buy' | 'sell';
  /** Base quantity, already rounded with amountToPrecision (an estimate when `cost` is set). */
  amount: number;
  /**
   * Market buy sized in quote currency: spend at most this much (Binance spot `quoteOrderQty`); the venue
   * works out the quantity at its own price. Only where quoteSizedBuy(symbol) is true.
   */
  cost?: number;
  clientOrderId: string;
  /** Trigger price of a protective spot order (STOP_LOSS / TAKE_PROFIT, market on trigger). */
  stopLossPrice?: number;
  takeProfitPrice?: number;
}

/** The protective sell of a whole position: a stop loss, a take profit, or both (one resting order). */
export interface ProtectiveRequest {
  symbol: string;
  /** Base quantity, already rounded with amountToPrecision. */
  amount: number;
  stopLoss: number | null;
  takeProfit: number | null;
  clientOrderId: string;
  /** A stop-limit's limit lies this many percent beyond its trigger (EXECUTOR_STOP_LIMIT_OFFSET_PERCENT). */
  stopLimitOffsetPercent: number;
}

/** Per-key trading operations. Throws ExchangeError. */
export interface TradingClient {
  rules(symbol: string): MarketRules;
  /** Rounds a base quantity down to the market's step (as ccxt does); 0 when below one step. */
  amountToPrecision(symbol: string, amount: number): number;
  priceToPrecision(symbol: string, price: number): number;
  /** Whether a market buy of this market can be sized in quote currency (OrderRequest.cost). */
  quoteSizedBuy(symbol: string): boolean;
  /**
   * Whether the venue rests protective spot orders (stopLossPrice / takeProfitPrice). Where it does not,
   * no protective order is sent: the trade monitor's CLOSE is the stop. Absent = yes (paper).
   */
  readonly protectiveOrders?: boolean;
  /**
   * Places an order. `signedAt` pins the request timestamp (ms): the exchange refuses the request if it
   * arrives later than recvWindow after it, which bounds how long an in-flight order can still appear.
   */
  createOrder(req: OrderRequest, signedAt: number): Promise<ExchangeOrder>;
  /** The order with this clientOrderId, or null when the exchange has none. */
  fetchOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /** Cancels by clientOrderId; null when there is nothing open to cancel. */
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /**
   * Rests the protective sell after an entry in the venue's own form (Binance: a market stop where the
   * symbol lists one, else a stop-limit; both levels as one OCO list). The answer sums every leg. Only
   * where protectiveOrders. `signedAt` as for createOrder.
   */
  placeProtective(req: ProtectiveRequest, signedAt: number): Promise<ExchangeOrder>;
  /** The protective order (or list) with this clientOrderId, summed over its legs; null when none. */
  findProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /** Cancels what is still open of it and answers what it had filled; null when the venue has none. */
  cancelProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  freeBalance(asset: string): Promise<number>;
  /** Minimum ms between requests for one key, from ccxt's rateLimit. */
  readonly minIntervalMs: number;
}

/** A venue's current public prices of one market (quote per base); null where the venue gave none. */
export interface VenueQuote { symbol: string; bid: number | null; ask: number | null; last: number | null; at: number }

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

interface CallScope { apiKey: string; secret: string; signedAt?: number }
const scope = new AsyncLocalStorage<CallScope>();

/** Makes a ccxt instance take credentials (and a pinned timestamp) from the current CallScope. */
function scopeCredentials(ex: Exchange): void {
  const nonce = ex.nonce.bind(ex);
  Object.defineProperty(ex, 'apiKey', { get: () => scope.getStore()?.apiKey ?? '', set: () => {}, configurable: true });
  Object.defineProperty(ex, 'secret', { get: () => scope.getStore()?.secret ?? '', set: () => {}, configurable: true });
  Object.defineProperty(ex, 'nonce', { value: () => scope.getStore()?.signedAt ?? nonce(), configurable: true, writable: true });
}

/** ccxt errors become ExchangeError in errors.ts (one vocabulary for every exchange call). */
export { classifyCcxtError };

function feesOf(o: Record<string, unknown>): { currency: string; cost: number }[] {
  const list = (Array.isArray(o.fees) && o.fees.length ? o.fees : o.fee ? [o.fee] : []) as { currency?: unknown; cost?: unknown }[];
  return list.filter((f) => typeof f?.currency === 'string' && Number(f.cost) > 0).map((f) => ({ currency: String(f.currency), cost: Number(f.cost) }));
}

/** `ourId`: our stored client id of the order (the venue knows it under the dialect's id). */
function toOrder(o: Record<string, unknown>, ourId?: string): ExchangeOrder {
  return {
    id: String(o.id ?? ''), clientOrderId: ourId ?? String(o.clientOrderId ?? ''), status: String(o.status ?? ''),
    filled: Number(o.filled ?? 0), amount: Number(o.amount ?? 0), average: o.average == null ? null : Number(o.average), fees: feesOf(o), raw: o.info ?? o,
  };
}

async function converted<T>(f: () => Promise<T>, dialect?: VenueDialect): Promise<T> {
  try { return await f(); } catch (err) { throw classifyCcxtError(err, dialect); }
}

/** How long after a create whose answer carries no fill the order is looked for (ms), and how often. */
const CONFIRM_MS = 2000;
const CONFIRM_EVERY_MS = 150;

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
    scopeCredentials(ex);
    // ccxt calls loadMarkets() inside every method; a market reload started there (the shared list's background
    // refresh) must not sign with the key of the job that happened to trigger it.
    const shared = ex.loadMarkets.bind(ex);
    ex.loadMarkets = (reload?: boolean, params?: object) => scope.run({ apiKey: '', secret: '' }, () => shared(reload, params));
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
    const t = await scope.run({ apiKey: '', secret: '' }, () => converted(() => ex.fetchTicker(symbol), dialect));
    return { symbol, bid: positive(t.bid), ask: positive(t.ask), last: positive(t.last ?? t.close), at: Date.now() };
  }

  /** A client for one API key (call ensureMarkets first). The key material lives only in this object. */
  forKey(exchangeId: string, apiKey: string, secret: string): TradingClient {
    const base = this.bases.get(exchangeId);
    if (!base || !this.marketsFresh(exchangeId)) throw new ExchangeError('temporary', `markets of ${exchangeId} not loaded`, 'NotLoaded');
    return new CcxtTradingClient(base.ex, base.dialect, { apiKey, secret });
  }
}

class CcxtTradingClient implements TradingClient {
  readonly minIntervalMs: number;
  readonly protectiveOrders: boolean;
  private readonly base: Exchange;
  constructor(private readonly ex: Exchange, private readonly dialect: VenueDialect, private readonly creds: CallScope) {
    this.base = ex;
    this.minIntervalMs = Number(ex.rateLimit ?? 50);
    this.protectiveOrders = dialect.protectiveOrders;
  }

  private as<T>(f: () => Promise<T>, signedAt?: number): Promise<T> {
    return scope.run({ ...this.creds, signedAt }, () => converted(f, this.dialect));
  }

  rules(symbol: string): MarketRules {
    const m = this.base.markets?.[symbol];
    if (!m) throw new ExchangeError('rejected', `market ${symbol} is not listed`, 'BadSymbol');
    return { symbol, base: m.base, quote: m.quote, minAmount: Number(m.limits?.amount?.min ?? 0), minCost: Number(m.limits?.cost?.min ?? 0) };
  }

  amountToPrecision(symbol: string, amount: number): number {
    try { return Number(this.base.amountToPrecision(symbol, amount)); } catch { return 0; }
  }

  priceToPrecision(symbol: string, price: number): number {
    return Number(this.base.priceToPrecision(symbol, price));
  }

  quoteSizedBuy(symbol: string): boolean {
    const m = this.base.markets?.[symbol];
    // Binance lists per symbol whether MARKET orders may use quoteOrderQty; other venues have no such flag.
    const allowed = (m?.info as { quoteOrderQtyMarketAllowed?: unknown } | undefined)?.quoteOrderQtyMarketAllowed;
    return !!m?.spot && this.base.has?.createMarketBuyOrderWithCost === true && allowed !== false;
  }

  async createOrder(req: OrderRequest, signedAt: number): Promise<ExchangeOrder> {
    const venueId = this.dialect.venueClientId(req.clientOrderId);
    const params: Record<string, unknown> = { clientOrderId: venueId };
    if ((req.stopLossPrice !== undefined || req.takeProfitPrice !== undefined) && !this.dialect.protectiveOrders) {
      // ccxt would drop the trigger on such a venue and the sell would execute at once.
      throw new ExchangeError('rejected', `${this.dialect.id} spot has no protective orders`, 'NotSupported');
    }
    if (req.stopLossPrice !== undefined) params.stopLossPrice = req.stopLossPrice;
    if (req.takeProfitPrice !== undefined) params.takeProfitPrice = req.takeProfitPrice;
    // ccxt truncates a cost to the market's precision (never up) and sends it in the venue's quote field
    // (Binance/MEXC quoteOrderQty, Bybit a quote-denominated qty).
    const cost = req.cost;
    const placed = toOrder(await this.as(() => (cost !== undefined
      ? this.ex.createMarketBuyOrderWithCost(req.symbol, cost, params)
      : this.ex.createOrder(req.symbol, 'market', req.side, req.amount, undefined, params)), signedAt) as unknown as Record<string, unknown>, req.clientOrderId);
    return this.dialect.createReportsFill ? placed : this.confirm(req.symbol, req.clientOrderId);
  }

  /**
   * The order just created, as the venue's lookup reports it (venues whose create answer has no status or
   * fill). Looks until it is no longer open or CONFIRM_MS passed. Never found: temporary (it was placed;
   * the next attempt's lookup records it, never a resend).
   */
  private async confirm(symbol: string, ourId: string): Promise<ExchangeOrder> {
    const end = Date.now() + CONFIRM_MS;
    for (;;) {
      const o = await this.fetchOrder(symbol, ourId);
      if (o && o.status !== 'open') return o;
      if (Date.now() >= end) {
        if (o) return o;
        throw new ExchangeError('temporary', `${this.dialect.id} accepted order ${ourId} but its lookup does not show it yet`, 'NotYetVisible');
      }
      await sleep(CONFIRM_EVERY_MS);
    }
  }

  async fetchOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    try {
      const o = await this.as(() => this.dialect.findByClientId(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
      return o ? toOrder(o, clientOrderId) : null;
    } catch (err) {
      if (err instanceof ExchangeError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    try {
      const o = await this.as(() => this.dialect.cancelByClientId(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
      return o ? toOrder(o, clientOrderId) : null;
    } catch (err) {
      if (err instanceof ExchangeError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  async placeProtective(req: ProtectiveRequest, signedAt: number): Promise<ExchangeOrder> {
    if (!this.dialect.protectiveOrders) throw new ExchangeError('rejected', `${this.dialect.id} spot has no protective orders`, 'NotSupported');
    const p = this.dialect.protective;
    if (!p) {
      const trigger = req.stopLoss !== null ? { stopLossPrice: req.stopLoss } : { takeProfitPrice: req.takeProfit ?? undefined };
      return this.createOrder({ symbol: req.symbol, side: 'sell', amount: req.amount, clientOrderId: req.clientOrderId, ...trigger }, signedAt);
    }
    const spec = { ...req, venueId: this.dialect.venueClientId(req.clientOrderId) };
    return toOrder(await this.as(() => p.place(this.ex, spec), signedAt), req.clientOrderId);
  }

  async findProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const p = this.dialect.protective;
    if (!p) return this.fetchOrder(symbol, clientOrderId);
    const o = await this.as(() => p.find(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  async cancelProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const p = this.dialect.protective;
    if (!p) return (await this.cancelOrder(symbol, clientOrderId)) ?? this.fetchOrder(symbol, clientOrderId);
    const o = await this.as(() => p.cancel(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  async freeBalance(asset: string): Promise<number> {
    const bal = await this.as(() => this.ex.fetchBalance());
    return Number((bal.free as unknown as Record<string, number | undefined>)?.[asset] ?? 0);
  }
}
