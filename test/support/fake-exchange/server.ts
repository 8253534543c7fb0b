/** FakeBinance: the HTTP server and the test-facing control API. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatUnits } from './decimal.js';
import type { BinanceErrorSpec } from './errors.js';
import type { FaultAction, FaultMatch } from './faults.js';
import type { Candle } from './market-data.js';
import { marketIdOf } from './markets.js';
import { Pipeline } from './pipeline.js';
import type { ExchangeState } from './routes.js';
import { SpotFake, type SpotFakeOptions } from './spot-fake.js';
import type { DuplicateMode } from './types.js';

/** Construction options of FakeBinance. */
export interface FakeBinanceOptions extends SpotFakeOptions {
  /** Default 'strict' (any reuse of a clientOrderId per account is rejected). */
  duplicateClientIdMode?: DuplicateMode;
  /** REQUEST_WEIGHT per minute before 429 -1003; default 6000. */
  weightLimitPerMinute?: number;
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
export class FakeBinance extends SpotFake {
  private readonly state: ExchangeState;
  private readonly pipeline: Pipeline;
  private nextFailureId = 1;

  /** @param options markets, duplicate mode, commission, weight limit, clock offset */
  constructor(options: FakeBinanceOptions = {}) {
    super(options.duplicateClientIdMode ?? 'strict', options);
    this.state = { engine: this.engine, candles: new Map(), orderTypeFailures: [], now: () => this.now() };
    this.pipeline = new Pipeline(this.state);
    this.pipeline.weightLimit = options.weightLimitPerMinute ?? 6000;
  }

  protected onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.pipeline.onRequest(req, res);
  }

  protected releaseHeld(): void {
    this.pipeline.releaseHeld();
  }

  // ---- markets and limits (accounts, prices and orders: spot-fake.ts) ---------

  /** Last price as a Binance string. */
  price(symbol: string): string {
    return formatUnits(this.engine.market(symbol).price);
  }

  /** Serves exactly these candles for (symbol, interval) instead of generated ones. */
  setCandles(symbol: string, interval: string, candles: Candle[]): void {
    const sorted = [...candles].sort((a, b) => a.openTime - b.openTime);
    this.state.candles.set(`${marketIdOf(symbol)} ${interval}`, sorted);
  }

  /** 'strict' rejects any reuse of a clientOrderId; 'binance' only while an order with it is open. */
  setDuplicateClientIdMode(mode: DuplicateMode): void {
    this.engine.duplicateMode = mode;
  }

  /** Sets the REQUEST_WEIGHT limit per minute. */
  setWeightLimit(perMinute: number): void {
    this.pipeline.weightLimit = perMinute;
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
    for (const a of this.engine.accounts.values()) {
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

}
