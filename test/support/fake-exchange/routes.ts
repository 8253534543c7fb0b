/** The REST endpoints of the fake Binance spot API. */
import { BinanceError, Errors, fromSpec, type BinanceErrorSpec } from './errors.js';
import { isOpen, type Engine } from './engine.js';
import { respTypeOf } from './order-request.js';
import { bookTicker, depth, klines, priceTicker, selectMarkets, ticker24h, type Candle } from './market-data.js';
import { exchangeInfoSymbol } from './markets.js';
import { cancelList, placeOco, queryList } from './oco.js';
import { accountJson, cancelJson, newOrderJson, orderJson, tradesJson } from './views.js';
import type { Account, Params } from './types.js';

/** A configured rejection of certain order types (see FakeBinance.failOrderTypes). */
export interface OrderTypeFailure {
  id: number;
  types: Set<string>;
  error: BinanceErrorSpec;
  remaining: number;
}

/** State the handlers work on. */
export interface ExchangeState {
  engine: Engine;
  candles: Map<string, Candle[]>;
  orderTypeFailures: OrderTypeFailure[];
  now(): number;
}

/** What a handler gets. */
export interface RouteContext {
  params: Params;
  /** Present on SIGNED routes once authentication passed. */
  account: Account | undefined;
  now: number;
}

/** One endpoint: whether it is SIGNED, its request weight and its handler. */
export interface Route {
  signed: boolean;
  weight: (p: Params) => number;
  handle: (ctx: RouteContext) => unknown;
}

const w = (n: number) => (): number => n;
const bySymbol = (one: number, all: number) => (p: Params): number => (p.symbol !== undefined ? one : all);

function accountOf(ctx: RouteContext): Account {
  if (ctx.account === undefined) throw Errors.invalidApiKey();
  return ctx.account;
}

function checkOrderTypeFailures(state: ExchangeState, account: Account, p: Params): void {
  const failure = state.orderTypeFailures.find((f) => f.types.has(p.type ?? ''));
  if (failure === undefined) return;
  failure.remaining -= 1;
  state.orderTypeFailures = state.orderTypeFailures.filter((f) => f.remaining > 0);
  account.rejectedOrders += 1;
  throw fromSpec(failure.error);
}

function publicRoutes(s: ExchangeState): Record<string, Route> {
  const one = (p: Params, f: (m: ReturnType<Engine['market']>) => unknown): unknown => {
    const { markets, single } = selectMarkets(s.engine.markets, p);
    const rows = markets.map(f);
    return single ? rows[0] : rows;
  };
  return {
    'GET /api/v3/ping': { signed: false, weight: w(1), handle: () => ({}) },
    'GET /api/v3/time': { signed: false, weight: w(1), handle: (c) => ({ serverTime: c.now }) },
    'GET /api/v3/exchangeInfo': {
      signed: false,
      weight: w(20),
      handle: (c) => ({
        timezone: 'UTC',
        serverTime: c.now,
        rateLimits: [
          { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
          { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
          { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
        ],
        exchangeFilters: [],
        symbols: selectMarkets(s.engine.markets, c.params).markets.map(exchangeInfoSymbol),
      }),
    },
    'GET /api/v3/ticker/price': { signed: false, weight: bySymbol(2, 4), handle: (c) => one(c.params, priceTicker) },
    'GET /api/v3/ticker/bookTicker': { signed: false, weight: bySymbol(2, 4), handle: (c) => one(c.params, bookTicker) },
    'GET /api/v3/ticker/24hr': { signed: false, weight: bySymbol(2, 80), handle: (c) => one(c.params, (m) => ticker24h(m, c.now)) },
    'GET /api/v3/avgPrice': {
      signed: false,
      weight: w(2),
      handle: (c) => ({ mins: 5, price: (one(c.params, priceTicker) as { price: string }).price, closeTime: c.now }),
    },
    'GET /api/v3/depth': {
      signed: false,
      weight: w(5),
      handle: (c) => depth(s.engine.market(c.params.symbol ?? ''), Number(c.params.limit ?? 100)),
    },
    'GET /api/v3/klines': {
      signed: false,
      weight: w(2),
      handle: (c) => {
        const m = s.engine.market(c.params.symbol ?? '');
        return klines(m, c.params, s.candles.get(`${m.id} ${c.params.interval ?? ''}`), c.now);
      },
    },
  };
}

function orderRoutes(s: ExchangeState): Record<string, Route> {
  return {
    'POST /api/v3/order': {
      signed: true,
      weight: w(1),
      handle: (c) => {
        const account = accountOf(c);
        checkOrderTypeFailures(s, account, c.params);
        const order = s.engine.placeOrder(account, c.params);
        return newOrderJson(order, respTypeOf(c.params));
      },
    },
    'POST /api/v3/orderList/oco': {
      signed: true,
      weight: w(1),
      handle: (c) => {
        const account = accountOf(c);
        // failOrderTypes(['OCO']) refuses whole lists (a test's stand-in for any definite list refusal).
        checkOrderTypeFailures(s, account, { ...c.params, type: 'OCO' });
        return placeOco(s.engine, account, c.params, c.now);
      },
    },
    'GET /api/v3/orderList': { signed: true, weight: w(4), handle: (c) => queryList(s.engine, accountOf(c), c.params) },
    'DELETE /api/v3/orderList': { signed: true, weight: w(1), handle: (c) => cancelList(s.engine, accountOf(c), c.params, c.now) },
    'GET /api/v3/order': { signed: true, weight: w(4), handle: (c) => orderJson(s.engine.findOrder(accountOf(c), c.params)) },
    'DELETE /api/v3/order': {
      signed: true,
      weight: w(1),
      handle: (c) => cancelJson(s.engine.cancelOrder(accountOf(c), c.params), c.params.newClientOrderId ?? `cancel${c.now}`),
    },
    'GET /api/v3/openOrders': {
      signed: true,
      weight: bySymbol(6, 80),
      handle: (c) => ordersOf(s, accountOf(c), c.params, false).filter(isOpen).map(orderJson),
    },
    'GET /api/v3/allOrders': {
      signed: true,
      weight: w(20),
      handle: (c) => limited(ordersOf(s, accountOf(c), c.params, true), c.params).map(orderJson),
    },
    'GET /api/v3/myTrades': {
      signed: true,
      weight: w(20),
      handle: (c) => limited(ordersOf(s, accountOf(c), c.params, true).flatMap(tradesJson), c.params),
    },
    'GET /api/v3/account': { signed: true, weight: w(20), handle: (c) => accountJson(accountOf(c), c.now) },
  };
}

function ordersOf(s: ExchangeState, account: Account, p: Params, symbolRequired: boolean): Account['orders'] {
  if (p.symbol === undefined) {
    if (symbolRequired) throw Errors.mandatory('symbol');
    return account.orders;
  }
  const id = s.engine.market(p.symbol).id;
  return account.orders.filter((o) => o.symbol === id);
}

function limited<T extends { time?: unknown }>(rows: T[], p: Params): T[] {
  const start = p.startTime !== undefined ? Number(p.startTime) : Number.NEGATIVE_INFINITY;
  const end = p.endTime !== undefined ? Number(p.endTime) : Number.POSITIVE_INFINITY;
  const inRange = rows.filter((r) => Number(r.time) >= start && Number(r.time) <= end);
  return inRange.slice(-Math.min(Number(p.limit ?? 500), 1000));
}

/** All routes keyed by "METHOD /path". */
export function buildRoutes(state: ExchangeState): Map<string, Route> {
  return new Map(Object.entries({ ...publicRoutes(state), ...orderRoutes(state) }));
}

/** Converts anything a handler threw into Binance's error response. */
export function toBinanceError(error: unknown): BinanceError {
  return error instanceof BinanceError
    ? error
    : new BinanceError(500, -1000, 'An unknown error occurred while processing the request.');
}
