/**
 * Bybit v5 error envelopes `{"retCode":N,"retMsg":"…","result":{},"retExtInfo":{},"time":…}`
 * (HTTP 200). Codes and wording: bybit-exchange/docs v5 error.mdx and the
 * examples in ccxt 4.5.84 js/src/bybit.js `exceptions` (by:10122: any JSON
 * with retCode ≠ 0 goes through ccxt's exact table).
 */
import { BinanceError } from '../errors.js';

/** A Bybit rejection (retCode/retMsg; HTTP 200 like the real API). */
export class BybitError extends Error {
  /** @param retCode Bybit code, @param retMsg Bybit message */
  constructor(
    readonly retCode: number,
    readonly retMsg: string,
  ) {
    super(`${retCode} ${retMsg}`);
  }
}

/** The errors the fake Bybit raises. */
export const BybitErrors = {
  params: (detail: string) => new BybitError(10001, `params error: ${detail}`),
  /** → InvalidNonce. */
  timestamp: (ts: string, server: number, recv: string) =>
    new BybitError(10002, `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${server}],recv_window[${recv}]`),
  /** → AuthenticationError. */
  invalidKey: () => new BybitError(10003, 'API key is invalid.'),
  /** → AuthenticationError. */
  badSign: (origin: string) => new BybitError(10004, `error sign! origin_string[${origin}]`),
  /** → RateLimitExceeded. */
  tooMany: () => new BybitError(10006, 'Too many visits!'),
  /** → InsufficientFunds. */
  insufficient: () => new BybitError(170131, 'Insufficient balance.'),
  /** → InvalidOrder. */
  minValue: () => new BybitError(170140, 'Order value exceeded lower limit.'),
  qtyLower: () => new BybitError(170136, 'Order quantity exceeded lower limit.'),
  qtyDecimals: () => new BybitError(170137, 'Order quantity has too many decimals.'),
  priceDecimals: () => new BybitError(170134, 'Order price has too many decimals.'),
  /** → InvalidOrder; spot orderLinkId is unique for ever (create-order.mdx). */
  duplicate: () => new BybitError(170141, 'Duplicate clientOrderId'),
  /** → OrderNotFound (cancel of an unknown/closed spot order). */
  notFound: () => new BybitError(170213, 'Order does not exist.'),
  symbol: () => new BybitError(170121, 'Invalid symbol.'),
  /** A TP/SL whose trigger is already crossed (Bybit: 170310-family; the fake uses the generic 10001). */
  wouldTrigger: () => new BybitError(10001, 'params error: TriggerPrice is invalid'),
  /** → BadRequest. Bybit's own spelling ("paramter"), as quoted in ccxt's table. */
  invalidParam: (name: string) => new BybitError(170130, `Data sent for paramter '${name}' is not valid.`),
  /** → InvalidOrder. */
  tpslPrice: () => new BybitError(170203, 'Please enter the TP/SL price.'),
  server: () => new BybitError(10016, 'Server error.'),
} as const;

/** Translates an Engine (Binance-shaped) rejection into Bybit's answer. */
export function fromEngineError(error: unknown): BybitError {
  if (error instanceof BybitError) return error;
  if (!(error instanceof BinanceError)) return BybitErrors.server();
  if (error.msg === 'Account has insufficient balance for requested action.') return BybitErrors.insufficient();
  if (error.msg === 'Duplicate order sent.') return BybitErrors.duplicate();
  if (error.msg === 'Order would trigger immediately.') return BybitErrors.wouldTrigger();
  if (error.msg === 'Filter failure: NOTIONAL') return BybitErrors.minValue();
  if (error.msg === 'Filter failure: LOT_SIZE') return BybitErrors.qtyLower();
  if (error.msg === 'Filter failure: PRICE_FILTER') return BybitErrors.priceDecimals();
  if (error.code === -1121) return BybitErrors.symbol();
  if (error.code === -2013 || error.code === -2011) return BybitErrors.notFound();
  return BybitErrors.params(error.msg);
}
