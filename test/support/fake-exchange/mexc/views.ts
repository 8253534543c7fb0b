/**
 * MEXC spot v3 JSON shapes. Orders and the 24h ticker have the field sets of
 * ccxt's recorded real answers (ccxt/ccxt ts/src/test/static/response/mexc.json,
 * fetchOrders and fetchTicker); exchangeInfo, the create and cancel answers and
 * the account follow the response samples in ccxt 4.5.84 js/src/mexc.js
 * (fetchSpotMarkets, createSpotOrder, cancelOrder, fetchBalance), for which
 * no recording exists.
 */
import { formatUnits as f } from '../decimal.js';
import type { Market } from '../markets.js';
import type { Account, OrderRecord } from '../types.js';
import { decimalsOf } from '../venue/base.js';

const plain = (v: bigint): string => f(v, 18).replace(/\.?0+$/, '') || '0';

/** MEXC's type name of an engine order (IOC/FOK limits are types of their own). */
export function mexcType(o: OrderRecord): string {
  if (o.type === 'LIMIT' && o.timeInForce === 'IOC') return 'IMMEDIATE_OR_CANCEL';
  if (o.type === 'LIMIT' && o.timeInForce === 'FOK') return 'FILL_OR_KILL';
  return o.type;
}

/** `symbols[]` entry of /api/v3/exchangeInfo (status "1" = trading, the newer MEXC form ccxt checks). */
export function symbolJson(m: Market): Record<string, unknown> {
  return {
    symbol: m.id,
    status: m.status === 'TRADING' ? '1' : '2',
    baseAsset: m.base,
    baseAssetPrecision: decimalsOf(m.stepSize),
    quoteAsset: m.quote,
    quotePrecision: decimalsOf(m.tickSize),
    quoteAssetPrecision: decimalsOf(m.tickSize),
    baseCommissionPrecision: decimalsOf(m.stepSize),
    quoteCommissionPrecision: decimalsOf(m.tickSize),
    orderTypes: ['LIMIT', 'MARKET', 'LIMIT_MAKER'],
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    quoteAmountPrecision: plain(m.minNotional),
    baseSizePrecision: plain(m.minQty),
    permissions: ['SPOT'],
    filters: [],
    maxQuoteAmount: '2000000',
    makerCommission: '0',
    takerCommission: '0.0005',
    quoteAmountPrecisionMarket: plain(m.minNotional),
    maxQuoteAmountMarket: '100000',
    fullName: m.base,
    tradeSideType: 1,
  };
}

/** GET /api/v3/ticker/24hr element: the field set of the recorded fetchTicker answer (response/mexc.json). */
export function tickerJson(m: Market, now: number): Record<string, unknown> {
  return {
    symbol: m.id,
    priceChange: plain(m.price - m.open24h),
    priceChangePercent: '0',
    prevClosePrice: plain(m.open24h),
    lastPrice: plain(m.price),
    bidPrice: plain(m.price),
    bidQty: '1',
    askPrice: plain(m.price),
    askQty: '1',
    openPrice: plain(m.open24h),
    highPrice: plain(m.high24h),
    lowPrice: plain(m.low24h),
    volume: '0',
    quoteVolume: '0',
    openTime: now - 86_400_000,
    closeTime: now,
    count: null,
  };
}

/** POST /api/v3/order answer: ids and request echo only, no status or fill (EXCHANGES.md MEXC §4). */
export function newOrderJson(o: OrderRecord): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: String(o.orderId),
    orderListId: -1,
    price: plain(o.price),
    origQty: plain(o.origQty),
    type: mexcType(o),
    side: o.side,
    transactTime: o.time,
  };
}

const STATUS: Record<OrderRecord['status'], string> = {
  NEW: 'NEW',
  PARTIALLY_FILLED: 'PARTIALLY_FILLED',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  EXPIRED: 'CANCELED',
};

function status(o: OrderRecord): string {
  return o.status !== 'FILLED' && !['NEW', 'PARTIALLY_FILLED'].includes(o.status) && o.executedQty > 0n
    ? 'PARTIALLY_CANCELED'
    : STATUS[o.status];
}

/** GET /api/v3/order answer: the field set of the recorded fetchOrders answer (response/mexc.json). */
export function orderJson(o: OrderRecord, withoutClientId = false): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: String(o.orderId),
    orderListId: '-1',
    // MEXC answers null when the order was sent without newClientOrderId (recorded fetchOrders).
    clientOrderId: withoutClientId ? null : o.clientOrderId,
    price: plain(o.price),
    origQty: plain(o.origQty),
    executedQty: plain(o.executedQty),
    cummulativeQuoteQty: plain(o.cummulativeQuoteQty),
    status: status(o),
    timeInForce: o.type === 'MARKET' ? null : o.timeInForce,
    type: mexcType(o),
    side: o.side,
    stopPrice: null,
    icebergQty: null,
    time: o.time,
    updateTime: o.updateTime,
    isWorking: true,
    origQuoteOrderQty: plain(o.origQuoteOrderQty),
  };
}

/** DELETE /api/v3/order answer. */
export function cancelJson(o: OrderRecord): Record<string, unknown> {
  return {
    symbol: o.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: String(o.orderId),
    clientOrderId: o.clientOrderId,
    price: plain(o.price),
    origQty: plain(o.origQty),
    executedQty: plain(o.executedQty),
    cummulativeQuoteQty: plain(o.cummulativeQuoteQty),
    status: status(o),
    timeInForce: o.timeInForce,
    type: mexcType(o),
    side: o.side,
  };
}

/** GET /api/v3/account answer. */
export function accountJson(a: Account): Record<string, unknown> {
  return {
    makerCommission: null,
    takerCommission: null,
    buyerCommission: null,
    sellerCommission: null,
    canTrade: true,
    canWithdraw: true,
    canDeposit: true,
    updateTime: null,
    accountType: 'SPOT',
    balances: [...a.balances].map(([asset, b]) => ({ asset, free: plain(b.free), locked: plain(b.locked) })),
    permissions: ['SPOT'],
  };
}
