/**
 * Bybit v5 linear JSON shapes: instruments-info (LinearPerpetual; fields as ccxt 4.5.84
 * fetchFutureMarkets reads them: lotSizeFilter.qtyStep/minOrderQty/minNotionalValue,
 * priceFilter.tickSize, leverageFilter), orders as /v5/order/realtime lists them (the spot
 * fake's field set plus positionIdx, reduceOnly, triggerDirection), position/list entries
 * (the unified-account example in ccxt's parsePosition comment), executions and closed PnL
 * (v5 execution.mdx, closed-pnl.mdx). Decimals are strings without trailing zeros.
 */
import { div, mul } from '../decimal.js';
import type { FuturesEngine } from '../futures/engine.js';
import { abs, leverageOf, liquidationPrice, marginModeOf } from '../futures/positions.js';
import type { ConditionalOrder, FuturesAccount, FuturesMarket, FuturesOrder, FuturesTrade, Position, PositionSide } from '../futures/types.js';
import { plain } from '../bybit/views.js';

export { plain };

/** A UUID-shaped order id for an engine id (Bybit order ids are UUIDs). */
export const orderIdOf = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const idxOf = (side: PositionSide): number => (side === 'LONG' ? 1 : side === 'SHORT' ? 2 : 0);
const cap = (s: 'BUY' | 'SELL'): string => (s === 'BUY' ? 'Buy' : 'Sell');

export function instrumentJson(m: FuturesMarket): Record<string, unknown> {
  return {
    symbol: m.id, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: m.base, quoteCoin: m.quote, settleCoin: m.quote,
    launchTime: '1584230400000', deliveryTime: '0', deliveryFeeRate: '', priceScale: String(Math.max(0, 18 - (m.tickSize.toString().length - 1))),
    leverageFilter: { minLeverage: '1', maxLeverage: `${m.maxLeverage}.00`, leverageStep: '0.01' },
    priceFilter: { minPrice: plain(m.tickSize), maxPrice: '1999999.8', tickSize: plain(m.tickSize) },
    lotSizeFilter: { maxOrderQty: plain(m.maxQty), minOrderQty: plain(m.minQty), qtyStep: plain(m.stepSize), postOnlyMaxOrderQty: plain(m.maxQty), maxMktOrderQty: plain(m.maxQty), minNotionalValue: plain(m.minNotional) },
    unifiedMarginTrade: true, fundingInterval: 480, copyTrading: 'both', upperFundingRate: '0.005', lowerFundingRate: '-0.005',
    isPreListing: false, preListingInfo: null, riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' },
  };
}

export function tickerJson(m: FuturesMarket): Record<string, unknown> {
  const p = plain(m.mark);
  return { symbol: m.id, lastPrice: p, markPrice: p, indexPrice: p, bid1Price: p, ask1Price: p, bid1Size: '1', ask1Size: '1', prevPrice24h: p, price24hPcnt: '0', highPrice24h: p, lowPrice24h: p, volume24h: '0', turnover24h: '0', fundingRate: '0.0001', nextFundingTime: '0', openInterest: '0' };
}

interface OrderFacts {
  orderId: number; clientId: string; symbol: string; side: 'BUY' | 'SELL'; positionSide: PositionSide; qty: bigint;
  executed: bigint; avg: bigint; quote: bigint; fee: bigint; status: string; reduceOnly: boolean; closeOnTrigger: boolean;
  triggerPrice: bigint; triggerDirection: number; stopOrderType: string; createType: string; time: number; updateTime: number;
}

function orderShape(f: OrderFacts): Record<string, unknown> {
  const open = f.status === 'Untriggered' || f.status === 'New' || f.status === 'Triggered';
  return {
    orderId: orderIdOf(f.orderId), orderLinkId: f.clientId, blockTradeId: '', symbol: f.symbol, price: '0', qty: plain(f.qty), side: cap(f.side),
    isLeverage: '', positionIdx: idxOf(f.positionSide), orderStatus: f.status, createType: f.createType,
    cancelType: f.status === 'Deactivated' || f.status === 'Cancelled' ? 'CancelByUser' : 'UNKNOWN', rejectReason: 'EC_NoError',
    avgPrice: f.executed > 0n ? plain(f.avg) : '', leavesQty: open ? plain(f.qty) : '0', leavesValue: '0', cumExecQty: plain(f.executed),
    cumExecValue: plain(f.quote), cumExecFee: plain(f.fee), cumFeeDetail: f.fee === 0n ? {} : { USDT: plain(f.fee) }, timeInForce: 'IOC', orderType: 'Market', stopOrderType: f.stopOrderType,
    orderIv: '', marketUnit: '', triggerPrice: f.triggerPrice > 0n ? plain(f.triggerPrice) : '', takeProfit: '', stopLoss: '', tpslMode: '',
    ocoTriggerBy: '', tpLimitPrice: '', slLimitPrice: '', tpTriggerBy: '', slTriggerBy: '', triggerDirection: f.triggerDirection,
    triggerBy: f.triggerPrice > 0n ? 'LastPrice' : '', lastPriceOnCreated: '', basePrice: '', reduceOnly: f.reduceOnly, closeOnTrigger: f.closeOnTrigger,
    placeType: '', smpType: 'None', smpGroup: 0, smpOrderId: '', createdTime: String(f.time), updatedTime: String(f.updateTime),
  };
}

/** A regular (market) order. */
export function orderJson(o: FuturesOrder, fee: bigint): Record<string, unknown> {
  return orderShape({
    orderId: o.orderId, clientId: o.clientId.startsWith('autoclose-') ? '' : o.clientId, symbol: o.symbol, side: o.side, positionSide: o.positionSide,
    qty: o.origQty, executed: o.executedQty, avg: o.avgPrice, quote: o.cumQuote, fee, status: o.status === 'FILLED' ? 'Filled' : 'Cancelled',
    reduceOnly: o.reduceOnly, closeOnTrigger: false, triggerPrice: 0n, triggerDirection: 0, stopOrderType: '',
    createType: o.type === 'LIQUIDATION' ? 'CreateByLiq' : 'CreateByUser', time: o.time, updateTime: o.updateTime,
  });
}

const CONDITIONAL_STATUS: Record<ConditionalOrder['status'], string> = { NEW: 'Untriggered', TRIGGERED: 'Triggered', FINISHED: 'Filled', CANCELED: 'Deactivated', EXPIRED: 'Deactivated' };

/** A conditional order; once triggered it carries the fill of the market order it became (Bybit keeps one orderId). */
export function conditionalJson(c: ConditionalOrder, fill: FuturesOrder | undefined, fee: bigint): Record<string, unknown> {
  return orderShape({
    orderId: c.algoId, clientId: c.clientId, symbol: c.symbol, side: c.side, positionSide: c.positionSide, qty: fill?.origQty ?? c.qty,
    executed: fill?.executedQty ?? 0n, avg: fill?.avgPrice ?? 0n, quote: fill?.cumQuote ?? 0n, fee, status: CONDITIONAL_STATUS[c.status],
    reduceOnly: c.reduceOnly, closeOnTrigger: c.closePosition, triggerPrice: c.triggerPrice, triggerDirection: c.direction === 'up' ? 1 : 2,
    stopOrderType: c.tpsl === 'TP' ? 'TakeProfit' : c.tpsl === 'SL' ? 'StopLoss' : 'Stop',
    createType: c.tpsl === undefined ? 'CreateByUser' : c.tpsl === 'TP' ? 'CreateByTakeProfit' : 'CreateByStopLoss', time: c.createTime, updateTime: c.updateTime,
  });
}

/** position/list entry. */
export function positionJson(e: FuturesEngine, a: FuturesAccount, p: Position, tpsl: { tp: bigint; sl: bigint }): Record<string, unknown> {
  const m = e.market(p.symbol);
  const n = e.positionNumbers(a, p.symbol, p.positionSide);
  const isolated = marginModeOf(a, p.symbol) === 'ISOLATED';
  const liq = liquidationPrice(p, m, isolated ? p.isolatedMargin : a.wallet);
  return {
    positionIdx: idxOf(p.positionSide), riskId: 1, riskLimitValue: '2000000', symbol: p.symbol, side: p.qty > 0n ? 'Buy' : p.qty < 0n ? 'Sell' : '',
    size: plain(abs(p.qty)), avgPrice: plain(p.entry), positionValue: plain(mul(abs(p.qty), p.entry)), tradeMode: isolated ? 1 : 0, autoAddMargin: 0,
    positionStatus: 'Normal', leverage: String(leverageOf(a, p.symbol)), markPrice: plain(m.mark), liqPrice: p.qty === 0n ? '' : plain(liq), bustPrice: '',
    positionIM: plain(n.initial), positionMM: plain(n.maint), positionBalance: plain(isolated ? p.isolatedMargin : n.initial),
    takeProfit: tpsl.tp > 0n ? plain(tpsl.tp) : '0', stopLoss: tpsl.sl > 0n ? plain(tpsl.sl) : '0', trailingStop: '0', sessionAvgPrice: '',
    unrealisedPnl: n.unrealized === 0n ? '0' : signed(n.unrealized), curRealisedPnl: signed(p.realizedPnl), cumRealisedPnl: signed(p.realizedPnl),
    adlRankIndicator: p.qty === 0n ? 0 : 2, createdTime: '1672121182216', updatedTime: String(p.updateTime || 1672121182216), seq: p.updateTime,
    isReduceOnly: false, mmrSysUpdatedTime: '', leverageSysUpdatedTime: '', tpslMode: 'Full',
  };
}

export const signed = (v: bigint): string => (v < 0n ? `-${plain(-v)}` : plain(v));

/** execution/list entry. */
export function executionJson(t: FuturesTrade, o: { orderId: number; clientId: string }, mark: bigint, execType = 'Trade'): Record<string, unknown> {
  return {
    symbol: t.symbol, orderId: orderIdOf(o.orderId), orderLinkId: o.clientId, side: cap(t.side), orderPrice: '0', orderQty: plain(t.qty), leavesQty: '0',
    createType: 'CreateByUser', orderType: 'Market', stopOrderType: '', execFee: plain(t.commission), execId: orderIdOf(t.id), execPrice: plain(t.price),
    execQty: plain(t.qty), execType, execValue: plain(t.quoteQty), execTime: String(t.time), feeCurrency: 'USDT', isMaker: false,
    feeRate: plain(div(t.commission, t.quoteQty === 0n ? 1n : t.quoteQty)), tradeIv: '', markIv: '', markPrice: plain(mark), indexPrice: plain(mark),
    underlyingPrice: '', blockTradeId: '', closedSize: t.realizedPnl === 0n ? '0' : plain(t.qty), seq: t.id,
  };
}

/** closed-pnl entry for a trade that reduced a position. */
export function closedPnlJson(t: FuturesTrade, o: { orderId: number }, entry: bigint, leverage: number): Record<string, unknown> {
  return {
    symbol: t.symbol, orderType: 'Market', leverage: String(leverage), updatedTime: String(t.time), side: cap(t.side), orderId: orderIdOf(o.orderId),
    closedPnl: signed(t.realizedPnl - t.commission), avgEntryPrice: plain(entry), qty: plain(t.qty), cumEntryValue: plain(mul(entry, t.qty)),
    createdTime: String(t.time), orderPrice: plain(t.price), closedSize: plain(t.qty), avgExitPrice: plain(t.price), execType: 'Trade',
    fillCount: '1', cumExitValue: plain(t.quoteQty),
  };
}
