/**
 * Endpoints of FakeBinanceFutures. Rules enforced (Binance USDⓈ-M docs, New-Order / New-Algo-Order /
 * Change-Margin-Type / Change-Position-Mode pages):
 * - /fapi/v1/order takes MARKET only in this fake; STOP/STOP_MARKET/TAKE_PROFIT/TAKE_PROFIT_MARKET/
 *   TRAILING_STOP_MARKET get -4120 (they go to /fapi/v1/algoOrder since 2025-12-09).
 * - /fapi/v1/algoOrder needs algoType=CONDITIONAL, triggerPrice, STOP_MARKET or TAKE_PROFIT_MARKET here;
 *   a BUY stop / SELL take-profit fires when the price rises to the trigger, the reverse falls.
 * - newClientOrderId / clientAlgoId: `^[\.A-Z\:/a-z0-9_-]{1,36}$`, unique among OPEN orders only.
 * - Hedge mode: positionSide LONG/SHORT required (-4061 otherwise), reduceOnly must not be sent (-1106);
 *   one-way mode: positionSide BOTH or absent.
 * - "Already set": marginType → -4046, positionSide/dual → -4059; leverage always answers success.
 */
import type { Params } from '../types.js';
import type { FuturesEngine } from '../futures/engine.js';
import { positionOf } from '../futures/positions.js';
import { FuturesReject, type ConditionalOrder, type FuturesAccount, type PositionSide, type Side } from '../futures/types.js';
import { parseDecimal } from '../decimal.js';
import { FapiErrors, fromReject } from './errors.js';
import { accountJson, algoJson, bracketJson, incomeJson, orderJson, positionJson, positionV2Json, symbolJson, tradeJson } from './views.js';

export type Handler = (a: FuturesAccount, p: Params) => unknown;
const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const ALGO_TYPES = new Set(['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET']);
const truthy = (v: string | undefined) => v === 'true' || v === 'TRUE';

function side(p: Params): Side {
  if (p.side !== 'BUY' && p.side !== 'SELL') throw FapiErrors.invalidSide();
  return p.side;
}

function decimal(p: Params, name: string): bigint {
  const v = p[name];
  if (v === undefined || v === '') throw FapiErrors.mandatory(name);
  const parsed = parseDecimal(v);
  if (parsed === undefined) throw FapiErrors.mandatory(name);
  return parsed;
}

function positionSide(a: FuturesAccount, p: Params): PositionSide {
  const ps = (p.positionSide ?? 'BOTH').toUpperCase();
  if (ps !== 'BOTH' && ps !== 'LONG' && ps !== 'SHORT') throw FapiErrors.positionSideMismatch();
  if (a.dualSide && p.reduceOnly !== undefined) throw FapiErrors.reduceOnlyNotRequired();
  return ps;
}

function clientId(p: Params, name: string, fallback: string): string {
  const id = p[name] ?? fallback;
  if (!CLIENT_ID.test(id)) throw FapiErrors.illegalClientId(name);
  return id;
}

/** Direction of a conditional: BUY stop / SELL take-profit fire on a rise. */
const directionOf = (type: string, s: Side) => ((type.startsWith('STOP') ? s === 'BUY' : s === 'SELL') ? 'up' : 'down');

export function signedRoutes(e: FuturesEngine): Record<string, Handler> {
  const guard = <T>(symbol: string | undefined, f: () => T): T => {
    try {
      return f();
    } catch (error) {
      if (error instanceof FuturesReject) throw fromReject(error, symbol === undefined ? 0n : safeMin(e, symbol));
      throw error;
    }
  };
  const findAlgo = (a: FuturesAccount, p: Params): ConditionalOrder | undefined =>
    a.conditionals.find((c) => (p.algoId !== undefined ? String(c.algoId) === p.algoId : c.clientId === p.clientAlgoId));
  return {
    'POST /fapi/v1/order': (a, p) => {
      const type = p.type ?? '';
      if (ALGO_TYPES.has(type)) throw FapiErrors.useAlgo();
      if (type !== 'MARKET') throw FapiErrors.invalidOrderType();
      const req = { symbol: p.symbol ?? '', side: side(p), positionSide: positionSide(a, p), reduceOnly: truthy(p.reduceOnly), qty: decimal(p, 'quantity'), clientId: clientId(p, 'newClientOrderId', `fake${Date.now()}`) };
      return orderJson(guard(p.symbol, () => e.placeMarket(a, req)));
    },
    'GET /fapi/v1/order': (a, p) => {
      const o = a.orders.find((x) => x.symbol === p.symbol && (p.orderId !== undefined ? String(x.orderId) === p.orderId : x.clientId === p.origClientOrderId));
      if (o === undefined) throw FapiErrors.notFound();
      return orderJson(o);
    },
    // MARKET orders never rest in this fake: nothing is ever open to cancel.
    'DELETE /fapi/v1/order': () => {
      throw FapiErrors.unknownOrder();
    },
    'GET /fapi/v1/openOrders': () => [],
    'POST /fapi/v1/algoOrder': (a, p) => {
      if (p.algoType !== 'CONDITIONAL') throw FapiErrors.mandatory('algoType');
      const type = p.type ?? '';
      if (type !== 'STOP_MARKET' && type !== 'TAKE_PROFIT_MARKET') throw FapiErrors.invalidOrderType();
      const s = side(p);
      const closePosition = truthy(p.closePosition);
      const req = {
        symbol: p.symbol ?? '', side: s, positionSide: positionSide(a, p), reduceOnly: truthy(p.reduceOnly) || closePosition, closePosition,
        qty: closePosition ? 0n : decimal(p, 'quantity'), clientId: clientId(p, 'clientAlgoId', `fakealgo${Date.now()}`), type,
        triggerPrice: decimal(p, 'triggerPrice'), direction: directionOf(type, s) as 'up' | 'down',
      };
      return algoJson(guard(p.symbol, () => e.placeConditional(a, req)), 0n);
    },
    // Query-Algo-Order: algoId or clientAlgoId; ccxt also sends symbol (tolerated).
    'GET /fapi/v1/algoOrder': (a, p) => {
      const c = findAlgo(a, p);
      if (c === undefined) throw FapiErrors.notFound();
      return algoJson(c, a.orders.find((o) => o.orderId === c.actualOrderId)?.avgPrice ?? 0n);
    },
    'DELETE /fapi/v1/algoOrder': (a, p) => {
      const target = findAlgo(a, p);
      if (target === undefined || target.status !== 'NEW') throw FapiErrors.unknownOrder();
      guard(target.symbol, () => e.cancelConditional(a, target.symbol, (c) => c === target));
      return { algoId: target.algoId, clientAlgoId: target.clientId, code: '200', msg: 'success' };
    },
    'GET /fapi/v1/openAlgoOrders': (a, p) => e.openConditionals(a, p.symbol).map((c) => algoJson(c, 0n)),
    'POST /fapi/v1/leverage': (a, p) => {
      const leverage = Number(p.leverage);
      guard(p.symbol, () => e.setLeverage(a, p.symbol ?? '', leverage));
      return { leverage, maxNotionalValue: '1000000', symbol: p.symbol };
    },
    'POST /fapi/v1/marginType': (a, p) => {
      const mode = p.marginType;
      if (mode !== 'ISOLATED' && mode !== 'CROSSED') throw FapiErrors.mandatory('marginType');
      const changed = guard(p.symbol, () => e.setMarginMode(a, p.symbol ?? '', mode));
      if (!changed) throw FapiErrors.marginTypeUnchanged();
      return { code: 200, msg: 'success' };
    },
    'GET /fapi/v1/positionSide/dual': (a) => ({ dualSidePosition: a.dualSide }),
    'POST /fapi/v1/positionSide/dual': (a, p) => {
      let changed: boolean;
      try {
        changed = e.setDualSide(a, truthy(p.dualSidePosition));
      } catch (error) {
        const reason = error instanceof FuturesReject ? error.reason : '';
        throw reason === 'HAS_POSITION' ? FapiErrors.dualPosition() : reason === 'HAS_OPEN_ORDERS' ? FapiErrors.dualOpenOrders() : error;
      }
      if (!changed) throw FapiErrors.positionSideUnchanged();
      return { code: 200, msg: 'success' };
    },
    'GET /fapi/v1/leverageBracket': (_a, p) => {
      const all = [...e.markets.values()].map(bracketJson);
      return p.symbol === undefined ? all : all.filter((b) => b.symbol === p.symbol);
    },
    'GET /fapi/v3/positionRisk': (a, p) => openPositions(a, p.symbol).map((x) => positionJson(e, a, x)),
    'GET /fapi/v2/positionRisk': (a, p) => allPositions(e, a, p.symbol).map((x) => positionV2Json(e, a, x)),
    'GET /fapi/v3/account': (a) => accountJson(e, a),
    'GET /fapi/v2/account': (a) => accountJson(e, a),
    'GET /fapi/v1/userTrades': (a, p) => a.trades.filter((t) => t.symbol === p.symbol).map(tradeJson),
    // User's Force Orders: liquidation orders (clientOrderId 'autoclose-…'), optionally by symbol and since startTime.
    'GET /fapi/v1/forceOrders': (a, p) => a.orders
      .filter((o) => o.type === 'LIQUIDATION' && (p.symbol === undefined || o.symbol === p.symbol) && (p.startTime === undefined || o.time >= Number(p.startTime)))
      .map(orderJson),
    'GET /fapi/v1/income': (a, p) => a.income.filter((i) => (p.symbol === undefined || i.symbol === p.symbol) && (p.incomeType === undefined || i.incomeType === p.incomeType)).map(incomeJson),
  };
}

function safeMin(e: FuturesEngine, symbol: string): bigint {
  try {
    return e.market(symbol).minNotional;
  } catch {
    return 0n;
  }
}

function openPositions(a: FuturesAccount, symbol: string | undefined) {
  return [...a.positions.values()].filter((p) => p.qty !== 0n && (symbol === undefined || p.symbol === symbol));
}

/** v2 lists every symbol and side of the account's mode, flat ones included. */
function allPositions(e: FuturesEngine, a: FuturesAccount, symbol: string | undefined) {
  const sides: PositionSide[] = a.dualSide ? ['LONG', 'SHORT'] : ['BOTH'];
  return [...e.markets.values()].filter((m) => symbol === undefined || m.id === symbol).flatMap((m) => sides.map((s) => positionOf(a, m.id, s)));
}

export function publicRoutes(e: FuturesEngine, now: () => number, orderTypes: () => string[]): Record<string, (p: Params) => unknown> {
  return {
    'GET /fapi/v1/ping': () => ({}),
    'GET /fapi/v1/time': () => ({ serverTime: now() }),
    'GET /fapi/v1/exchangeInfo': () => ({
      timezone: 'UTC', serverTime: now(), futuresType: 'U_MARGINED', rateLimits: [], exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: [...e.markets.values()].map((m) => symbolJson(m, orderTypes())),
    }),
    'GET /fapi/v1/premiumIndex': (p) => {
      const rows = [...e.markets.values()].map((m) => ({ symbol: m.id, markPrice: String(Number(m.mark) / 1e18), indexPrice: String(Number(m.mark) / 1e18), estimatedSettlePrice: '0', lastFundingRate: '0.0001', interestRate: '0.0001', nextFundingTime: now() + 3_600_000, time: now() }));
      return p.symbol === undefined ? rows : rows.find((r) => r.symbol === p.symbol) ?? (() => { throw FapiErrors.invalidSymbol(); })();
    },
  };
}
