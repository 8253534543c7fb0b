/**
 * FakeBinanceFutures: a Binance USDⓈ-M (fapi) REST API over the shared futures
 * engine, spoken to by the real `ccxt.binanceusdm` (see ../futures/ccxt-clients.ts:
 * ccxt keeps its https://fapi.binance.com URLs and a fetchImplementation sends
 * them here, so ccxt's futures error table applies). Signing is spot's
 * (X-MBX-APIKEY; HMAC-SHA256 hex over query string + body; timestamp within
 * recvWindow), checked over the raw bytes by ../auth.ts. The venue-neutral
 * HTTP base (faults, held responses, counters, per-second limits) is
 * ../venue/base.ts.
 */
import type { IncomingMessage } from 'node:http';
import { authenticate } from '../auth.js';
import { BinanceError, Errors } from '../errors.js';
import { formatUnits, toUnits } from '../decimal.js';
import { FuturesEngine } from '../futures/engine.js';
import type { FuturesAccount, FuturesMarketSpec } from '../futures/types.js';
import type { Params } from '../types.js';
import { FakeVenue, type Reply, type VenueRequest } from '../venue/base.js';
import { publicRoutes, signedRoutes, type Handler } from './routes.js';
import { FAPI_ORDER_TYPES } from './views.js';

/** BTCUSDT as Binance lists it (tick 0.10, step 0.001, MIN_NOTIONAL 100, 125x, first bracket 0.4 %). */
export const FAPI_BTCUSDT: FuturesMarketSpec = { base: 'BTC', quote: 'USDT', markPrice: 60_000, tickSize: '0.1', stepSize: '0.001', minQty: '0.001', maxQty: 1000, minNotional: 100, maxLeverage: 125, maintMarginRate: '0.004' };
/** ETHUSDT (tick 0.01, step 0.001, MIN_NOTIONAL 20). */
export const FAPI_ETHUSDT: FuturesMarketSpec = { base: 'ETH', quote: 'USDT', markPrice: 3_000, tickSize: '0.01', stepSize: '0.001', minQty: '0.001', maxQty: 10000, minNotional: 20, maxLeverage: 100, maintMarginRate: '0.005' };

/** Options of FakeBinanceFutures. */
export interface FakeBinanceFuturesOptions {
  markets?: FuturesMarketSpec[];
  /** Taker fee rate, default 0.0004 (Binance USDⓈ-M regular tier). */
  takerRate?: string;
  clockOffsetMs?: number;
}

const params = (rawQuery: string, rawBody: string): Params => {
  const out: Params = {};
  for (const source of [rawQuery, rawBody]) for (const [k, v] of new URLSearchParams(source)) out[k] = v;
  return out;
};

/** A fake Binance USDⓈ-M futures API for tests. */
export class FakeBinanceFutures extends FakeVenue {
  readonly futures: FuturesEngine;
  private orderTypes = [...FAPI_ORDER_TYPES];
  private readonly signed: Record<string, Handler>;
  private readonly open: Record<string, (p: Params) => unknown>;

  /** @param options markets (default BTCUSDT and ETHUSDT perpetuals), fee rate, clock offset */
  constructor(options: FakeBinanceFuturesOptions = {}) {
    super('binance', { replaceDefaultMarkets: true, clockOffsetMs: options.clockOffsetMs });
    this.futures = new FuturesEngine(() => this.now(), 'open', options.takerRate ?? '0.0004');
    for (const spec of options.markets ?? [FAPI_BTCUSDT, FAPI_ETHUSDT]) this.futures.addMarket(spec);
    this.signed = signedRoutes(this.futures);
    this.open = publicRoutes(this.futures, () => this.now(), () => this.orderTypes);
  }

  /** Registers an API key with its secret and USDT wallet balance ({ USDT: 1000 }). */
  override addAccount(apiKey: string, apiSecret: string, balances: Record<string, number | string> = {}): void {
    super.addAccount(apiKey, apiSecret, {});
    this.futures.addAccount(apiKey, toUnits(balances.USDT ?? 0));
  }

  /** Sets the mark (= last) price: crossed conditional orders fire, then under-margined positions are liquidated. */
  setMarkPrice(symbol: string, price: number | string): void {
    this.futures.setMark(symbol, price);
  }

  /** The `orderTypes` exchangeInfo lists for every symbol (ccxt refuses stops that are not listed). */
  setOrderTypes(types: string[]): void {
    this.orderTypes = [...types];
  }

  /** Futures state of an account, for assertions. */
  futuresAccount(apiKey: string): FuturesAccount {
    return this.futures.account(apiKey);
  }

  /** Cross wallet balance as a decimal string. */
  wallet(apiKey: string): string {
    return formatUnits(this.futures.account(apiKey).wallet, 8);
  }

  protected apiKeyOf(headers: IncomingMessage['headers']): string | undefined {
    const v = headers['x-mbx-apikey'];
    return typeof v === 'string' ? v : undefined;
  }

  protected rateLimitReply(retryAfterSec: number): Reply {
    return { status: 429, body: JSON.stringify(Errors.tooMuchWeight(2400).body()), headers: { 'retry-after': String(retryAfterSec) } };
  }

  protected answer(req: VenueRequest): Reply | undefined {
    const key = `${req.method} ${req.path}`;
    const pub = this.open[key];
    const priv = this.signed[key];
    if (pub === undefined && priv === undefined) return undefined;
    const p = params(req.rawQuery, req.rawBody);
    try {
      if (pub !== undefined) return ok(pub(p));
      const account = authenticate(this.engine.accounts, { apiKey: this.apiKeyOf(req.headers), rawQuery: req.rawQuery, rawBody: req.rawBody, params: p }, req.now);
      return ok(priv!(this.futures.account(account.apiKey), p));
    } catch (error) {
      if (!(error instanceof BinanceError)) throw error;
      return { status: error.status, body: JSON.stringify(error.body()), headers: error.headers };
    }
  }
}

const ok = (body: unknown): Reply => ({ status: 200, body: JSON.stringify(body) });
