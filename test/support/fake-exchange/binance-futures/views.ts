/**
 * Binance USDⓈ-M JSON shapes. Field sets: the developers.binance.com pages
 * (Exchange-Information, New-Order RESULT, New-Algo-Order, Query-Algo-Order,
 * Position-Information-V3, Notional-and-Leverage-Brackets, Account-Information-V3,
 * Account-Trade-List, Get-Income-History) and the algo order in ccxt 4.5.84's
 * parseOrder comment (algoId, clientAlgoId, algoType, orderType, algoStatus,
 * triggerPrice, quantity, actualOrderId). Decimals are strings, as Binance sends.
 */
import { formatUnits } from '../decimal.js';
import type { FuturesEngine } from '../futures/engine.js';
import { abs, leverageOf, liquidationPrice, marginModeOf } from '../futures/positions.js';
import type { ConditionalOrder, FuturesAccount, FuturesMarket, FuturesOrder, FuturesTrade, Income, Position } from '../futures/types.js';

/** Decimal string without trailing zeros ('0' for zero). */
export const num = (v: bigint): string => formatUnits(v, 8).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') || '0';
const decimalsOf = (step: bigint): number => Math.max(0, 18 - (step.toString().length - 1));

/** Order types every fake contract lists (ccxt checks `orderTypes` before sending a stop). */
export const FAPI_ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'];

export function symbolJson(m: FuturesMarket, orderTypes: string[]): Record<string, unknown> {
  return {
    symbol: m.id, pair: m.id, contractType: 'PERPETUAL', deliveryDate: 4133404800000, onboardDate: 1569398400000, status: 'TRADING',
    maintMarginPercent: '2.5000', requiredMarginPercent: '5.0000', baseAsset: m.base, quoteAsset: m.quote, marginAsset: m.quote,
    pricePrecision: decimalsOf(m.tickSize), quantityPrecision: decimalsOf(m.stepSize), baseAssetPrecision: 8, quotePrecision: 8,
    underlyingType: 'COIN', underlyingSubType: [], settlePlan: 0, triggerProtect: '0.0500', liquidationFee: '0.012500', marketTakeBound: '0.05',
    maxMoveOrderLimit: 10000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: num(m.tickSize), maxPrice: '4529764', tickSize: num(m.tickSize) },
      { filterType: 'LOT_SIZE', minQty: num(m.minQty), maxQty: num(m.maxQty), stepSize: num(m.stepSize) },
      { filterType: 'MARKET_LOT_SIZE', minQty: num(m.minQty), maxQty: num(m.maxQty), stepSize: num(m.stepSize) },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
      { filterType: 'MIN_NOTIONAL', notional: num(m.minNotional) },
      { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
    ],
    orderTypes, timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
  };
}

export function orderJson(o: FuturesOrder): Record<string, unknown> {
  return {
    orderId: o.orderId, symbol: o.symbol, status: o.status, clientOrderId: o.clientId, price: '0', avgPrice: num(o.avgPrice),
    origQty: num(o.origQty), executedQty: num(o.executedQty), cumQty: num(o.executedQty), cumQuote: num(o.cumQuote),
    timeInForce: 'GTC', type: o.type === 'LIQUIDATION' ? 'MARKET' : o.type, reduceOnly: o.reduceOnly, closePosition: o.closePosition,
    side: o.side, positionSide: o.positionSide, stopPrice: '0', workingType: 'CONTRACT_PRICE', priceProtect: false,
    origType: o.type, priceMatch: 'NONE', selfTradePreventionMode: 'EXPIRE_MAKER', goodTillDate: 0, time: o.time, updateTime: o.updateTime,
  };
}

export function algoJson(c: ConditionalOrder, actualPrice: bigint): Record<string, unknown> {
  return {
    algoId: c.algoId, clientAlgoId: c.clientId, algoType: 'CONDITIONAL', orderType: c.type, symbol: c.symbol, side: c.side,
    positionSide: c.positionSide, timeInForce: 'GTC', quantity: num(c.qty), algoStatus: c.status, actualOrderId: c.actualOrderId === 0 ? '' : String(c.actualOrderId),
    actualPrice: num(actualPrice), triggerPrice: num(c.triggerPrice), price: '0', icebergQuantity: null, tpTriggerPrice: '0', tpPrice: '0',
    slTriggerPrice: '0', slPrice: '0', tpOrderType: '', selfTradePreventionMode: 'EXPIRE_MAKER', workingType: 'CONTRACT_PRICE',
    priceMatch: 'NONE', closePosition: c.closePosition, priceProtect: false, reduceOnly: c.reduceOnly,
    createTime: c.createTime, updateTime: c.updateTime, triggerTime: c.triggerTime, goodTillDate: 0,
  };
}

/** /fapi/v3/positionRisk entry (v3 lists only non-flat positions). */
export function positionJson(e: FuturesEngine, a: FuturesAccount, p: Position): Record<string, unknown> {
  const m = e.market(p.symbol);
  const n = e.positionNumbers(a, p.symbol, p.positionSide);
  const isolated = marginModeOf(a, p.symbol) === 'ISOLATED';
  const liq = liquidationPrice(p, m, isolated ? p.isolatedMargin : a.wallet);
  return {
    symbol: p.symbol, positionSide: p.positionSide, positionAmt: num(p.qty), entryPrice: num(p.entry), breakEvenPrice: num(p.entry),
    markPrice: num(m.mark), unRealizedProfit: num(n.unrealized), liquidationPrice: num(liq), isolatedMargin: num(isolated ? p.isolatedMargin + n.unrealized : 0n),
    notional: num(n.notional), marginAsset: m.quote, isolatedWallet: num(p.isolatedMargin), initialMargin: num(n.initial),
    maintMargin: num(n.maint), positionInitialMargin: num(n.initial), openOrderInitialMargin: '0', adl: 0, bidNotional: '0', askNotional: '0',
    updateTime: p.updateTime,
  };
}

/** /fapi/v2/positionRisk entry (lists every symbol, with leverage and marginType). */
export function positionV2Json(e: FuturesEngine, a: FuturesAccount, p: Position): Record<string, unknown> {
  const v3 = positionJson(e, a, p);
  const isolated = marginModeOf(a, p.symbol) === 'ISOLATED';
  return { ...v3, leverage: String(leverageOf(a, p.symbol)), marginType: isolated ? 'isolated' : 'cross', isAutoAddMargin: 'false', maxNotionalValue: '1000000' };
}

export function bracketJson(m: FuturesMarket): Record<string, unknown> {
  return {
    symbol: m.id, notionalCoef: 1,
    brackets: [{ bracket: 1, initialLeverage: m.maxLeverage, notionalCap: 1000000, notionalFloor: 0, maintMarginRatio: Number(num(m.mmr)), cum: 0 }],
  };
}

export function accountJson(e: FuturesEngine, a: FuturesAccount): Record<string, unknown> {
  const open = [...a.positions.values()].filter((p) => p.qty !== 0n);
  let unrealized = 0n;
  let isolated = 0n;
  for (const p of open) {
    unrealized += e.positionNumbers(a, p.symbol, p.positionSide).unrealized;
    isolated += p.isolatedMargin;
  }
  const wallet = a.wallet + isolated;
  const available = e.available(a);
  const asset = {
    asset: 'USDT', walletBalance: num(wallet), unrealizedProfit: num(unrealized), marginBalance: num(wallet + unrealized),
    maintMargin: '0', initialMargin: num(wallet + unrealized - available), positionInitialMargin: '0', openOrderInitialMargin: '0',
    crossWalletBalance: num(a.wallet), crossUnPnl: '0', availableBalance: num(available), maxWithdrawAmount: num(available),
    // ccxt skips assets with updateTime 0 (never used); a funded account has moved at least once.
    updateTime: Math.max(1, ...a.income.map((i) => i.time)),
  };
  return {
    totalInitialMargin: asset.initialMargin, totalMaintMargin: '0', totalWalletBalance: asset.walletBalance, totalUnrealizedProfit: asset.unrealizedProfit,
    totalMarginBalance: asset.marginBalance, totalPositionInitialMargin: '0', totalOpenOrderInitialMargin: '0', totalCrossWalletBalance: asset.crossWalletBalance,
    totalCrossUnPnl: '0', availableBalance: asset.availableBalance, maxWithdrawAmount: asset.maxWithdrawAmount, assets: [asset],
    positions: open.map((p) => ({ symbol: p.symbol, positionSide: p.positionSide, positionAmt: num(p.qty), unrealizedProfit: '0', isolatedMargin: num(p.isolatedMargin), notional: '0', isolatedWallet: num(p.isolatedMargin), initialMargin: '0', maintMargin: '0', updateTime: p.updateTime })),
  };
}

export function tradeJson(t: FuturesTrade): Record<string, unknown> {
  return {
    buyer: t.side === 'BUY', commission: num(t.commission), commissionAsset: 'USDT', id: t.id, maker: false, orderId: t.orderId,
    price: num(t.price), qty: num(abs(t.qty)), quoteQty: num(t.quoteQty), realizedPnl: num(t.realizedPnl), side: t.side,
    positionSide: t.positionSide, symbol: t.symbol, time: t.time,
  };
}

export function incomeJson(i: Income): Record<string, unknown> {
  return { symbol: i.symbol, incomeType: i.incomeType, income: num(i.income), asset: 'USDT', info: i.incomeType, time: i.time, tranId: i.tranId, tradeId: i.tradeId === 0 ? '' : String(i.tradeId) };
}
