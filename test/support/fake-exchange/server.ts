/** FakeBinance: the HTTP server and the test-facing control API. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatUnits, toUnits } from './decimal.js';
import { Engine } from './engine.js';
import type { BinanceErrorSpec } from './errors.js';
import type { FaultAction, FaultMatch } from './faults.js';
import type { Candle } from './market-data.js';
import { DEFAULT_MARKETS, marketIdOf, type MarketSpec } from './markets.js';
import { Pipeline } from './pipeline.js';
import type { ExchangeState } from './routes.js';
import type { Account, DuplicateMode, OrderSnapshot } from './types.js';
import { snapshot } from './views.js';

/** Construction options of FakeBinance. */
export interface FakeBinanceOptions {
  /** Extra markets, or replacements of default ones with the same base/quote. */
  markets?: MarketSpec[];
  /** Serve only `markets`, not BTC/USDT, ETH/USDT, SOL/USDT, ETH/BTC. */
  replaceDefaultMarkets?: boolean;
  /** Default 'strict' (any reuse of a clientOrderId per account is rejected). */
  duplicateClientIdMode?: DuplicateMode;
  /** Fraction of the received asset charged as commission, default 0. */
  commissionRate?: number | string;
  /** REQUEST_WEIGHT per minute before 429 -1003; default 6000. */
  weightLimitPerMinute?: number;
  /** Server clock minus real clock, ms (to provoke -1021). */
  clockOffsetMs?: number;
}

/** Counters for assertions and benchmarks. */
export interface FakeBinanceStats {
  /** Requests per "METHOD /path" (including unknown paths and faulted requests). */
  requests: Record<string, number>;
  /** Accepted orders per API key. */
  ordersAccepted: Record<string, number>;
  /** Rejected order attempts per API key (after authentication). */
  ordersRejected: Record<string, number>;
  /** REQUEST_WEIGHT used in the current minute. */
  usedWeight1m: number;
}

/**
 * A fake Binance SPOT REST API for tests, spoken to by the real `ccxt.binance`
 * (point it here with `redirectCcxtTo`). Enforces Binance's auth, filters,
 * balances and error bodies; supports fault injection and counts requests.
 */
export class FakeBinance {
  private readonly state: ExchangeState;
  private readonly pipeline: Pipeline;
  private server: Server | undefined;
  private baseUrl = '';
  private clockOffsetMs: number;
  private nextFailureId = 1;

  /** @param options markets, duplicate mode, commission, weight limit, clock offset */
  constructor(options: FakeBinanceOptions = {}) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    const engine = new Engine(() => this.now());
    engine.duplicateMode = options.duplicateClientIdMode ?? 'strict';
    engine.commissionRate = toUnits(options.commissionRate ?? 0);
    for (const spec of [...(options.replaceDefaultMarkets === true ? [] : DEFAULT_MARKETS), ...(options.markets ?? [])]) {
      engine.addMarket(spec);
    }
    this.state = { engine, candles: new Map(), orderTypeFailures: [], now: () => this.now() };
    this.pipeline = new Pipeline(this.state);
    this.pipeline.weightLimit = options.weightLimitPerMinute ?? 6000;
  }

  /** Listens on 127.0.0.1:`port` (0 = any free port); resolves to the origin, e.g. http://127.0.0.1:41234. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.pipeline.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /** Stops listening and drops every connection, including held (hung) responses. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.pipeline.releaseHeld();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Origin given by start(). */
  get origin(): string {
    return this.baseUrl;
  }

  /** Exchange clock (real clock + offset), ms. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  // ---- accounts and markets ------------------------------------------------

  /** Registers an API key with its HMAC secret and free balances, e.g. { USDT: 1000 }. */
  addAccount(apiKey: string, apiSecret: string, balances: Record<string, number | string> = {}): void {
    this.state.engine.addAccount(apiKey, apiSecret, balances);
  }

  /** Deletes an API key (as if revoked); its requests then get -2015. */
  removeAccount(apiKey: string): void {
    this.state.engine.accounts.delete(apiKey);
  }

  /** Sets the free balance of an asset. */
  setBalance(apiKey: string, asset: string, free: number | string): void {
    this.state.engine.balance(this.account(apiKey), asset.toUpperCase()).free = toUnits(free);
  }

  /** Balances of an account as Binance strings. */
  balances(apiKey: string): Record<string, { free: string; locked: string }> {
    const out: Record<string, { free: string; locked: string }> = {};
    for (const [asset, b] of this.account(apiKey).balances) {
      out[asset] = { free: formatUnits(b.free), locked: formatUnits(b.locked) };
    }
    return out;
  }

  /** Adds or replaces a market. */
  addMarket(spec: MarketSpec): void {
    this.state.engine.addMarket(spec);
  }

  /** Sets the last price ('BTC/USDT' or 'BTCUSDT'); resting/stop orders it crosses execute. */
  setPrice(symbol: string, price: number | string): void {
    this.state.engine.setPrice(symbol, price);
  }

  /** Last price as a Binance string. */
  price(symbol: string): string {
    return formatUnits(this.state.engine.market(symbol).price);
  }

  /** Serves exactly these candles for (symbol, interval) instead of generated ones. */
  setCandles(symbol: string, interval: string, candles: Candle[]): void {
    const sorted = [...candles].sort((a, b) => a.openTime - b.openTime);
    this.state.candles.set(`${marketIdOf(symbol)} ${interval}`, sorted);
  }

  /** 'strict' rejects any reuse of a clientOrderId; 'binance' only while an order with it is open. */
  setDuplicateClientIdMode(mode: DuplicateMode): void {
    this.state.engine.duplicateMode = mode;
  }

  /** Moves the exchange clock relative to the real one. */
  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms;
  }

  /** Sets the REQUEST_WEIGHT limit per minute. */
  setWeightLimit(perMinute: number): void {
    this.pipeline.weightLimit = perMinute;
  }

  // ---- recorded orders ------------------------------------------------------

  /** Accepted orders, of one account or all, in acceptance order. */
  orders(apiKey?: string): OrderSnapshot[] {
    const accounts = apiKey === undefined ? [...this.state.engine.accounts.values()] : [this.account(apiKey)];
    return accounts
      .flatMap((a) => a.orders)
      .sort((a, b) => a.orderId - b.orderId)
      .map(snapshot);
  }

  /** Accepted orders carrying a clientOrderId (optionally of one account). */
  ordersByClientId(clientOrderId: string, apiKey?: string): OrderSnapshot[] {
    return this.orders(apiKey).filter((o) => o.clientOrderId === clientOrderId);
  }

  // ---- faults -----------------------------------------------------------------

  /** Installs a fault (see FaultAction); returns an id for removeFault(). */
  injectFault(action: FaultAction, match: FaultMatch = {}): number {
    return this.pipeline.faults.add(action, match);
  }

  /** Removes one fault. */
  removeFault(id: number): void {
    this.pipeline.faults.remove(id);
  }

  /** Removes all faults and order-type failures. */
  clearFaults(): void {
    this.pipeline.faults.clear();
    this.state.orderTypeFailures = [];
  }

  /**
   * Rejects new orders of the given Binance types (e.g. ['STOP_LOSS_LIMIT']) with
   * `error` (default -2010, which ccxt maps to InvalidOrder), for the next `times` ones.
   */
  failOrderTypes(
    types: string[],
    error: BinanceErrorSpec = { status: 400, code: -2010, msg: 'Order type rejected by fake exchange.' },
    times = Number.POSITIVE_INFINITY,
  ): number {
    const id = this.nextFailureId++;
    this.state.orderTypeFailures.push({ id, types: new Set(types), error, remaining: times });
    return id;
  }

  // ---- counters -------------------------------------------------------------

  /** Requests seen for a path, optionally of one method. */
  requestCount(path: string, method?: string): number {
    let total = 0;
    for (const [key, count] of this.pipeline.requestCounts) {
      const [m, p] = key.split(' ');
      if (p === path && (method === undefined || m === method.toUpperCase())) total += count;
    }
    return total;
  }

  /** Snapshot of all counters. */
  stats(): FakeBinanceStats {
    const ordersAccepted: Record<string, number> = {};
    const ordersRejected: Record<string, number> = {};
    for (const a of this.state.engine.accounts.values()) {
      ordersAccepted[a.apiKey] = a.orders.length;
      ordersRejected[a.apiKey] = a.rejectedOrders;
    }
    return {
      requests: Object.fromEntries(this.pipeline.requestCounts),
      ordersAccepted,
      ordersRejected,
      usedWeight1m: this.pipeline.usedWeight(),
    };
  }

  /** Zeroes request counters and the weight window (orders stay recorded). */
  resetCounters(): void {
    this.pipeline.resetCounters();
  }

  /** "METHOD /path" of requests to endpoints the fake does not serve (e.g. sapi). */
  unhandledRequests(): string[] {
    return [...this.pipeline.unhandled];
  }

  /** Responses currently held open by a 'placeThenTimeout' hang. */
  heldResponses(): number {
    return this.pipeline.held.size;
  }

  private account(apiKey: string): Account {
    const account = this.state.engine.accounts.get(apiKey);
    if (account === undefined) throw new Error(`no account for API key ${apiKey}`);
    return account;
  }
}
