/**
 * FakeBybitLinear: Bybit v5 USDT perpetuals (category=linear) over the shared
 * futures engine, spoken to by the real `ccxt.bybit` (../futures/ccxt-clients.ts).
 * Signing as the spot FakeBybit checks it (../bybit/auth.ts). Every answer is the retCode envelope
 * with HTTP 200. Spot, inverse and option instrument lists are empty.
 */
import type { IncomingMessage } from 'node:http';
import { formatUnits, toUnits } from '../decimal.js';
import { bybitHeader, bybitJsonBody, verifyBybitSignature } from '../bybit/auth.js';
import { envelope } from '../bybit/views.js';
import { FuturesEngine } from '../futures/engine.js';
import type { FuturesAccount, FuturesMarketSpec } from '../futures/types.js';
import { FakeVenue, queryParams, type Reply, type VenueRequest } from '../venue/base.js';
import { BybitErrors, fromReject } from './errors.js';
import { linearRoutes, type Handler } from './routes.js';
import { instrumentJson, tickerJson } from './views.js';

/** BTCUSDT perpetual as Bybit lists it (tick 0.10, step 0.001, min notional 5, 100x, MMR 0.5 %). */
export const BYBIT_BTCUSDT: FuturesMarketSpec = { base: 'BTC', quote: 'USDT', markPrice: 60_000, tickSize: '0.1', stepSize: '0.001', minQty: '0.001', maxQty: 1190, minNotional: 5, maxLeverage: 100, maintMarginRate: '0.005' };
export const BYBIT_ETHUSDT: FuturesMarketSpec = { base: 'ETH', quote: 'USDT', markPrice: 3_000, tickSize: '0.01', stepSize: '0.01', minQty: '0.01', maxQty: 7240, minNotional: 5, maxLeverage: 100, maintMarginRate: '0.005' };

export interface FakeBybitLinearOptions {
  markets?: FuturesMarketSpec[];
  /** Taker fee rate, default 0.00055 (Bybit non-VIP derivatives). */
  takerRate?: string;
  clockOffsetMs?: number;
}

/** A fake Bybit v5 linear-perpetuals API for tests; an orderLinkId can never be reused. */
export class FakeBybitLinear extends FakeVenue {
  readonly futures: FuturesEngine;
  private readonly privateTable: Record<string, Handler>;

  constructor(options: FakeBybitLinearOptions = {}) {
    super('strict', { replaceDefaultMarkets: true, clockOffsetMs: options.clockOffsetMs });
    this.futures = new FuturesEngine(() => this.now(), 'always', options.takerRate ?? '0.00055');
    for (const spec of options.markets ?? [BYBIT_BTCUSDT, BYBIT_ETHUSDT]) this.futures.addMarket(spec);
    this.privateTable = { ...this.accountRoutes(), ...linearRoutes(this.futures) };
  }

  /** Registers an API key with its secret and USDT wallet balance. */
  override addAccount(apiKey: string, apiSecret: string, balances: Record<string, number | string> = {}): void {
    super.addAccount(apiKey, apiSecret, {});
    this.futures.addAccount(apiKey, toUnits(balances.USDT ?? 0));
  }

  /** Sets the mark (= last) price: crossed conditional orders fire, then under-margined positions are liquidated. */
  setMarkPrice(symbol: string, price: number | string): void {
    this.futures.setMark(symbol, price);
  }

  futuresAccount(apiKey: string): FuturesAccount {
    return this.futures.account(apiKey);
  }

  wallet(apiKey: string): string {
    return formatUnits(this.futures.account(apiKey).wallet, 8);
  }

  protected apiKeyOf(headers: IncomingMessage['headers']): string | undefined {
    return bybitHeader(headers, 'x-bapi-api-key');
  }

  protected rateLimitReply(retryAfterSec: number): Reply {
    const e = BybitErrors.tooMany();
    return {
      status: 200, body: JSON.stringify(envelope({}, this.now(), e.retCode, e.retMsg)),
      headers: { 'x-bapi-limit': '10', 'x-bapi-limit-status': '0', 'x-bapi-limit-reset-timestamp': String(this.now() + retryAfterSec * 1000) },
    };
  }

  protected answer(req: VenueRequest): Reply | undefined {
    const key = `${req.method} ${req.path}`;
    const pub = this.publicRoute(key);
    const priv = this.privateTable[key];
    if (pub === undefined && priv === undefined) return undefined;
    try {
      let result: unknown;
      if (pub !== undefined) result = pub(queryParams(req.rawQuery));
      else {
        const { apiKey } = verifyBybitSignature(this.engine.accounts, req);
        result = priv!(this.futures.account(apiKey), req.method === 'POST' ? bybitJsonBody(req.rawBody) : queryParams(req.rawQuery));
      }
      return { status: 200, body: JSON.stringify(envelope(result, req.now)) };
    } catch (error) {
      const e = fromReject(error);
      return { status: 200, body: JSON.stringify(envelope({}, req.now, e.retCode, e.retMsg)) };
    }
  }

  private publicRoute(key: string): ((p: Record<string, string>) => unknown) | undefined {
    const e = this.futures;
    const table: Record<string, (p: Record<string, string>) => unknown> = {
      'GET /v5/market/time': () => ({ timeSecond: String(Math.floor(this.now() / 1000)), timeNano: `${this.now()}000000` }),
      // loadMarkets asks every category (linear twice, once status=PreLaunch): only live linear contracts are listed.
      'GET /v5/market/instruments-info': (p) => ({
        category: p.category ?? '', nextPageCursor: '',
        list: p.category === 'linear' && p.status === undefined ? [...e.markets.values()].map(instrumentJson) : [],
      }),
      'GET /v5/market/tickers': (p) => ({
        category: p.category ?? '',
        list: p.category !== 'linear' ? [] : [...e.markets.values()].filter((m) => p.symbol === undefined || m.id === p.symbol).map(tickerJson),
      }),
    };
    return table[key];
  }

  private accountRoutes(): Record<string, Handler> {
    return {
      'GET /v5/asset/coin/query-info': () => ({ rows: [{ name: 'USDT', coin: 'USDT', remainAmount: '1000000', chains: [] }] }),
      // ccxt isUnifiedEnabled() pre-calls (by:1491-1570) when enableUnified* are not preset: a UTA 2.0 account.
      'GET /v5/user/query-api': (a) => ({ id: '1', note: 'fake', apiKey: a.apiKey, readOnly: 0, permissions: { ContractTrade: ['Order', 'Position'] }, ips: ['*'], type: 1, unified: 0, uta: 1, isMaster: true }),
      'GET /v5/account/info': (a) => ({
        unifiedMarginStatus: 6, marginMode: [...a.marginMode.values()].includes('ISOLATED') ? 'ISOLATED_MARGIN' : 'REGULAR_MARGIN',
        isMasterTrader: false, spotHedgingStatus: 'OFF', updatedTime: String(this.now()), dcpStatus: 'OFF', timeWindow: 0, smpGroup: 0,
      }),
    };
  }
}
