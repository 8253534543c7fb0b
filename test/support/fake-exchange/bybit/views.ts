/**
 * Bybit v5 JSON shapes, with the field sets of ccxt's recorded real answers
 * (ccxt/ccxt ts/src/test/static/response/bybit.json): orders as in its
 * fetchOpenOrder/fetchClosedOrder entries (v5/order/realtime, /history),
 * create/cancel `{orderId, orderLinkId}` as in its createOrder entries (spot
 * stopLossPrice, spot limit), the wallet as in its UNIFIED fetchBalance entry.
 * Numbers keep the documented JSON types (v5 open-order.mdx); the recorded
 * file prints some of them as strings.
 */
import { formatUnits as f, div } from '../decimal.js';
import type { Market } from '../markets.js';
import type { Account, OrderRecord } from '../types.js';

/** Plain decimal string without trailing zeros, as Bybit prints numbers. */
export const plain = (v: bigint): string => f(v, 18).replace(/\.?0+$/, '') || '0';

/** The envelope every Bybit answer has. */
export function envelope(result: unknown, now: number, retCode = 0, retMsg = 'OK'): Record<string, unknown> {
  return { retCode, retMsg, result, retExtInfo: {}, time: now };
}

/** instruments-info spot entry. */
export function instrumentJson(m: Market): Record<string, unknown> {
  return {
    symbol: m.id,
    baseCoin: m.base,
    quoteCoin: m.quote,
    innovation: '0',
    status: m.status === 'TRADING' ? 'Trading' : 'Closed',
    marginTrading: 'none',
    stTag: '0',
    lotSizeFilter: {
      basePrecision: plain(m.stepSize),
      quotePrecision: plain(m.tickSize),
      minOrderQty: plain(m.minQty),
      maxOrderQty: plain(m.maxQty),
      minOrderAmt: plain(m.minNotional),
      maxOrderAmt: '2000000',
    },
    priceFilter: { tickSize: plain(m.tickSize) },
    riskParameters: { priceLimitRatioX: '0.05', priceLimitRatioY: '0.1' },
  };
}

/** tickers (spot) entry. */
export function tickerJson(m: Market): Record<string, unknown> {
  return {
    symbol: m.id,
    bid1Price: plain(m.price),
    bid1Size: '1',
    ask1Price: plain(m.price),
    ask1Size: '1',
    lastPrice: plain(m.price),
    prevPrice24h: plain(m.open24h),
    price24hPcnt: '0',
    highPrice24h: plain(m.high24h),
    lowPrice24h: plain(m.low24h),
    turnover24h: '0',
    volume24h: '0',
    usdIndexPrice: plain(m.price),
  };
}

/** Extra facts the Bybit front-end keeps per order (what the engine does not know). */
export interface BybitOrderMeta {
  orderType: 'Market' | 'Limit';
  /** '' for plain orders, 'tpslOrder' or 'StopOrder'. */
  orderFilter: string;
  marketUnit: string;
  triggerDirection: number;
  timeInForce: string;
}

function status(o: OrderRecord, meta: BybitOrderMeta): string {
  if (!o.isWorking) return o.status === 'CANCELED' ? 'Deactivated' : 'Untriggered';
  switch (o.status) {
    case 'NEW':
      return meta.orderFilter !== '' ? 'Triggered' : 'New';
    case 'PARTIALLY_FILLED':
      return 'PartiallyFilled';
    case 'FILLED':
      return 'Filled';
    default:
      return o.executedQty > 0n ? 'PartiallyFilledCanceled' : 'Cancelled';
  }
}

/** One order of /v5/order/realtime or /v5/order/history. */
export function orderJson(o: OrderRecord, meta: BybitOrderMeta): Record<string, unknown> {
  const avg = o.executedQty > 0n ? plain(div(o.cummulativeQuoteQty, o.executedQty)) : '';
  const open = o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
  return {
    orderId: String(o.orderId),
    orderLinkId: o.clientOrderId,
    blockTradeId: '',
    symbol: o.symbol,
    price: plain(o.price),
    qty: plain(o.origQuoteOrderQty > 0n ? o.origQuoteOrderQty : o.origQty),
    side: o.side === 'BUY' ? 'Buy' : 'Sell',
    isLeverage: '0',
    positionIdx: 0,
    orderStatus: status(o, meta),
    createType: 'CreateByUser',
    cancelType: o.status === 'CANCELED' ? 'CancelByUser' : 'UNKNOWN',
    rejectReason: 'EC_NoError',
    avgPrice: avg,
    leavesQty: open ? plain(o.origQty - o.executedQty) : '0',
    leavesValue: open ? plain(o.reserved) : '0',
    cumExecQty: plain(o.executedQty),
    cumExecValue: plain(o.cummulativeQuoteQty),
    cumExecFee: plain(o.fills.reduce((sum, fill) => sum + fill.commission, 0n)),
    cumFeeDetail: {},
    timeInForce: meta.timeInForce,
    orderType: meta.orderType,
    stopOrderType: meta.orderFilter === 'tpslOrder' ? 'tpslOrder' : meta.orderFilter === 'StopOrder' ? 'Stop' : '',
    orderIv: '',
    marketUnit: meta.marketUnit,
    triggerPrice: o.stopPrice > 0n ? plain(o.stopPrice) : '',
    takeProfit: '',
    stopLoss: '',
    tpslMode: '',
    tpLimitPrice: '0',
    slLimitPrice: '0',
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: meta.triggerDirection,
    triggerBy: o.stopPrice > 0n ? 'LastPrice' : '',
    lastPriceOnCreated: '',
    reduceOnly: false,
    closeOnTrigger: false,
    placeType: '',
    smpType: 'None',
    smpGroup: 0,
    smpOrderId: '',
    slippageToleranceType: 'UNKNOWN',
    slippageTolerance: '0',
    extraFees: '',
    createdTime: String(o.time),
    updatedTime: String(o.updateTime),
  };
}

/** /v5/account/wallet-balance?accountType=UNIFIED result. */
export function walletJson(a: Account): Record<string, unknown> {
  const coins = [...a.balances].map(([coin, b]) => ({
    coin,
    availableToBorrow: '',
    // Deprecated and empty on UTA (recorded response); ccxt then derives free = walletBalance − locked − IM.
    availableToWithdraw: '',
    equity: plain(b.free + b.locked),
    usdValue: '0',
    walletBalance: plain(b.free + b.locked),
    locked: plain(b.locked),
    spotHedgingQty: '0',
    borrowAmount: '0',
    accruedInterest: '0',
    totalOrderIM: '0',
    totalPositionIM: '0',
    totalPositionMM: '0',
    unrealisedPnl: '0',
    cumRealisedPnl: '0',
    bonus: '0',
    marginCollateral: true,
    collateralSwitch: true,
  }));
  return {
    list: [
      {
        accountType: 'UNIFIED',
        accountIMRate: '0',
        accountMMRate: '0',
        totalEquity: '0',
        totalWalletBalance: '0',
        totalMarginBalance: '0',
        totalAvailableBalance: '0',
        totalPerpUPL: '0',
        totalInitialMargin: '0',
        totalMaintenanceMargin: '0',
        accountLTV: '0',
        coin: coins,
      },
    ],
  };
}
