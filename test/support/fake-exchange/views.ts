/** Binance JSON shapes of orders, fills, trades and accounts. */
import { formatUnits as f, mul } from './decimal.js';
import type { Account, FillRecord, OrderRecord, OrderSnapshot } from './types.js';

/** GET /api/v3/order (and openOrders/allOrders element). */
export function orderJson(o: OrderRecord): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: o.clientOrderId,
    price: f(o.price),
    origQty: f(o.origQty),
    executedQty: f(o.executedQty),
    cummulativeQuoteQty: f(o.cummulativeQuoteQty),
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    stopPrice: f(o.stopPrice),
    icebergQty: '0.00000000',
    time: o.time,
    updateTime: o.updateTime,
    isWorking: o.isWorking,
    workingTime: o.workingTime,
    origQuoteOrderQty: f(o.origQuoteOrderQty),
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

function fillJson(fill: FillRecord): Record<string, unknown> {
  return {
    price: f(fill.price),
    qty: f(fill.qty),
    commission: f(fill.commission),
    commissionAsset: fill.commissionAsset,
    tradeId: fill.tradeId,
  };
}

/** POST /api/v3/order response for newOrderRespType ACK, RESULT or FULL. */
export function newOrderJson(o: OrderRecord, respType: 'ACK' | 'RESULT' | 'FULL'): Record<string, unknown> {
  const ack = { symbol: o.symbol, orderId: o.orderId, orderListId: o.orderListId, clientOrderId: o.clientOrderId, transactTime: o.time };
  if (respType === 'ACK') {
    return ack;
  }
  const full = orderJson(o);
  const result: Record<string, unknown> = {
    ...ack,
    price: full.price,
    origQty: full.origQty,
    executedQty: full.executedQty,
    origQuoteOrderQty: full.origQuoteOrderQty,
    cummulativeQuoteQty: full.cummulativeQuoteQty,
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    workingTime: o.workingTime,
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
  if (o.stopPrice > 0n) {
    result.stopPrice = full.stopPrice;
  }
  return respType === 'FULL' ? { ...result, fills: o.fills.map(fillJson) } : result;
}

/** DELETE /api/v3/order response. */
export function cancelJson(o: OrderRecord, cancelClientId: string): Record<string, unknown> {
  const full = orderJson(o);
  return {
    symbol: o.symbol,
    origClientOrderId: o.clientOrderId,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: cancelClientId,
    transactTime: o.updateTime,
    price: full.price,
    origQty: full.origQty,
    executedQty: full.executedQty,
    origQuoteOrderQty: full.origQuoteOrderQty,
    cummulativeQuoteQty: full.cummulativeQuoteQty,
    status: o.status,
    timeInForce: o.timeInForce,
    type: o.type,
    side: o.side,
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

/** GET /api/v3/myTrades elements for one order. */
export function tradesJson(o: OrderRecord): Record<string, unknown>[] {
  return o.fills.map((fill) => ({
    symbol: o.symbol,
    id: fill.tradeId,
    orderId: o.orderId,
    orderListId: -1,
    price: f(fill.price),
    qty: f(fill.qty),
    quoteQty: f(mul(fill.qty, fill.price)),
    commission: f(fill.commission),
    commissionAsset: fill.commissionAsset,
    time: fill.time,
    isBuyer: o.side === 'BUY',
    isMaker: fill.isMaker,
    isBestMatch: true,
  }));
}

/** GET /api/v3/account response. */
export function accountJson(a: Account, now: number): Record<string, unknown> {
  const balances = [...a.balances.entries()].map(([asset, b]) => ({ asset, free: f(b.free), locked: f(b.locked) }));
  return {
    makerCommission: 10,
    takerCommission: 10,
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
    canTrade: true,
    canWithdraw: true,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: now,
    accountType: 'SPOT',
    balances,
    permissions: ['SPOT'],
    uid: 1,
  };
}

/** Test-facing copy of an order. */
export function snapshot(o: OrderRecord): OrderSnapshot {
  return {
    apiKey: o.apiKey,
    orderId: o.orderId,
    orderListId: o.orderListId,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    status: o.status,
    price: f(o.price),
    stopPrice: f(o.stopPrice),
    origQty: f(o.origQty),
    origQuoteOrderQty: f(o.origQuoteOrderQty),
    executedQty: f(o.executedQty),
    cummulativeQuoteQty: f(o.cummulativeQuoteQty),
    time: o.time,
    updateTime: o.updateTime,
  };
}
