/**
 * FakeMexc: MEXC spot v3 front-end on the shared Engine, spoken to by the
 * real `ccxt.mexc`. Signing as MEXC does it (general-info page; ccxt
 * mexc.js sign()): every parameter of a private call is in the URL query even
 * for POST/DELETE, `signature` = hex HMAC-SHA256(secret, query-before-signature
 * + raw body), key in `X-MEXC-APIKEY`, `timestamp` within `recvWindow`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { formatUnits } from '../decimal.js';
import type { Engine } from '../engine.js';
import type { Account, OrderRecord, Params } from '../types.js';
import { FakeVenue, queryParams, type FakeVenueOptions, type Reply, type VenueRequest } from '../venue/base.js';
import { MexcError, MexcErrors, fromEngineError } from './errors.js';
import { accountJson, cancelJson, newOrderJson, orderJson, symbolJson, tickerJson } from './views.js';

/** Options of FakeMexc. */
export interface FakeMexcOptions extends FakeVenueOptions {
  /** GET /api/v3/order answers -2013 for orders younger than this (ccxt#21614); default 0. */
  lookupLagMs?: number;
}

const MEXC_TYPES: Record<string, { type: string; timeInForce?: string }> = {
  MARKET: { type: 'MARKET' },
  LIMIT: { type: 'LIMIT', timeInForce: 'GTC' },
  LIMIT_MAKER: { type: 'LIMIT_MAKER' },
  IMMEDIATE_OR_CANCEL: { type: 'LIMIT', timeInForce: 'IOC' },
  FILL_OR_KILL: { type: 'LIMIT', timeInForce: 'FOK' },
};

const json = (status: number, body: unknown): Reply => ({ status, body: JSON.stringify(body) });
const errorReply = (e: MexcError): Reply => json(e.status, { code: e.code, msg: e.msg });

/** Turns a MEXC new-order request into the Engine's (Binance-named) parameters; unknown parameters are dropped, as MEXC ignores them. */
function engineParams(p: Params): Params {
  const mapped = MEXC_TYPES[p.type ?? ''];
  if (mapped === undefined) throw MexcErrors.invalidType();
  const out: Params = { symbol: p.symbol ?? '', side: p.side ?? '', type: mapped.type };
  if (mapped.timeInForce !== undefined) out.timeInForce = mapped.timeInForce;
  for (const name of ['quantity', 'quoteOrderQty', 'newClientOrderId'] as const) {
    if (p[name] !== undefined) out[name] = p[name];
  }
  if (mapped.type !== 'MARKET' && p.price !== undefined) out.price = p.price;
  return out;
}

/** A fake MEXC spot v3 REST API for tests; client ids are unique among open orders only. */
export class FakeMexc extends FakeVenue {
  /** See FakeMexcOptions.lookupLagMs. */
  lookupLagMs: number;
  /** Orders sent without newClientOrderId (the engine still names them internally). */
  private readonly withoutClientId = new Set<number>();
  private readonly publicTable = this.publicRoutes();
  private readonly privateTable = this.privateRoutes();

  /** @param options markets, clock offset, commission, lookup lag */
  constructor(options: FakeMexcOptions = {}) {
    super('binance', options);
    this.lookupLagMs = options.lookupLagMs ?? 0;
  }

  protected apiKeyOf(headers: IncomingMessage['headers']): string | undefined {
    const value = headers['x-mexc-apikey'];
    return typeof value === 'string' ? value : undefined;
  }

  protected rateLimitReply(retryAfterSec: number): Reply {
    const e = MexcErrors.tooMany();
    return { status: 429, body: JSON.stringify({ code: e.code, msg: e.msg }), headers: { 'retry-after': String(retryAfterSec) } };
  }

  protected answer(req: VenueRequest): Reply | undefined {
    const key = `${req.method} ${req.path}`;
    const publicRoute = this.publicTable[key];
    const privateRoute = this.privateTable[key];
    if (publicRoute === undefined && privateRoute === undefined) return undefined;
    const params = queryParams(req.rawQuery);
    try {
      if (publicRoute !== undefined) return json(200, publicRoute(params, req.now));
      const account = this.authenticate(req, params);
      return json(200, privateRoute!(account, params, req.now));
    } catch (error) {
      const m = this.engine.markets.get(params.symbol ?? '');
      const minNotional = m === undefined ? '' : formatUnits(m.minNotional).replace(/\.?0+$/, '') + m.quote;
      return errorReply(fromEngineError(error, minNotional));
    }
  }

  private authenticate(req: VenueRequest, params: Params): Account {
    const apiKey = this.apiKeyOf(req.headers);
    const account = apiKey === undefined ? undefined : this.engine.accounts.get(apiKey);
    if (account === undefined) throw MexcErrors.invalidKey();
    const signature = params.signature;
    if (signature === undefined || signature === '') throw MexcErrors.mandatory('signature');
    const signed = req.rawQuery.split('&').filter((pair) => pair !== '' && !pair.startsWith('signature=')).join('&') + req.rawBody;
    const expected = Buffer.from(createHmac('sha256', account.secret).update(signed).digest('hex'));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw MexcErrors.badSignature();
    const timestamp = Number(params.timestamp);
    if (!Number.isFinite(timestamp)) throw MexcErrors.mandatory('timestamp');
    const recvWindow = Math.min(Number(params.recvWindow ?? 5000), 60_000);
    if (timestamp >= req.now + 1000 || req.now - timestamp > recvWindow) throw MexcErrors.outsideRecvWindow();
    return account;
  }

  private orderJson(o: OrderRecord): Record<string, unknown> {
    return orderJson(o, this.withoutClientId.has(o.orderId));
  }

  private publicRoutes(): Record<string, (p: Params, now: number) => unknown> {
    const e: Engine = this.engine;
    return {
      'GET /api/v3/ping': () => ({}),
      'GET /api/v3/time': (_p, now) => ({ serverTime: now }),
      'GET /api/v3/defaultSymbols': () => ({ code: 200, data: [...e.markets.keys()], msg: null }),
      'GET /api/v3/exchangeInfo': (_p, now) => ({
        timezone: 'CST',
        serverTime: now,
        rateLimits: [],
        exchangeFilters: [],
        symbols: [...e.markets.values()].map(symbolJson),
      }),
      // Swap contracts: ccxt's loadMarkets always asks (mexc.js fetchSwapMarkets); the fake lists none.
      'GET /api/v1/contract/detail': () => ({ success: true, code: 0, data: [] }),
      'GET /api/v3/ticker/24hr': (p, now) =>
        p.symbol !== undefined ? tickerJson(e.market(p.symbol), now) : [...e.markets.values()].map((m) => tickerJson(m, now)),
      'GET /api/v3/ticker/price': (p) => {
        const row = (m: ReturnType<Engine['market']>) => ({ symbol: m.id, price: formatUnits(m.price).replace(/\.?0+$/, '') });
        return p.symbol !== undefined ? row(e.market(p.symbol)) : [...e.markets.values()].map(row);
      },
    };
  }

  private privateRoutes(): Record<string, (a: Account, p: Params, now: number) => unknown> {
    const e: Engine = this.engine;
    return {
      'GET /api/v3/account': (a) => accountJson(a),
      // ccxt fetchCurrencies (signed when keys are set): no networks listed.
      'GET /api/v3/capital/config/getall': () =>
        [...new Set([...e.markets.values()].flatMap((m) => [m.base, m.quote]))].map((coin) => ({ coin, name: coin, networkList: [] })),
      'POST /api/v3/order': (a, p) => {
        const order = e.placeOrder(a, engineParams(p));
        if (p.newClientOrderId === undefined) this.withoutClientId.add(order.orderId);
        return newOrderJson(order);
      },
      'GET /api/v3/order': (a, p, now) => {
        const order = e.findOrder(a, p);
        if (now - order.time < this.lookupLagMs) throw MexcErrors.notFound();
        return this.orderJson(order);
      },
      'DELETE /api/v3/order': (a, p) => cancelJson(e.cancelOrder(a, p)),
      'GET /api/v3/openOrders': (a, p) =>
        a.orders.filter((o) => o.symbol === e.market(p.symbol ?? '').id && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED')).map((o) => this.orderJson(o)),
      'GET /api/v3/allOrders': (a, p) => a.orders.filter((o) => o.symbol === e.market(p.symbol ?? '').id).map((o) => this.orderJson(o)),
    };
  }
}
