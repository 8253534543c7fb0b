/**
 * Bybit v5 linear rejections (retCode envelope, HTTP 200). Codes and wording:
 * bybit-exchange/docs v5 error.mdx and ccxt 4.5.84 js/src/bybit.js `exceptions`
 * (110017 Reduce-only rule not satisfied → InvalidOrder; 110043 Set leverage not
 * modified → BadRequest; 110025 Position mode is not modified → NoChange; 110026
 * Cross/isolated margin mode is not modified → MarginModeAlreadySet; 110072
 * OrderLinkedID is duplicate → InvalidOrder; 110092/110093 trigger on the wrong
 * side → InvalidOrder; 110094 below minimum notional → InvalidOrder; 110007 → InsufficientFunds).
 */
import { BybitError, BybitErrors } from '../bybit/errors.js';
import { FuturesReject } from '../futures/types.js';

export { BybitError, BybitErrors };

export const LinearErrors = {
  notFound: () => new BybitError(110001, 'Order does not exist.'),
  insufficient: () => new BybitError(110007, 'ab not enough for new order'),
  reduceOnly: () => new BybitError(110017, 'Reduce-only rule not satisfied'),
  positionExists: () => new BybitError(110024, 'You have an existing position, so position mode cannot be switched'),
  modeUnchanged: () => new BybitError(110025, 'Position mode is not modified'),
  marginModeUnchanged: () => new BybitError(110026, 'Cross/isolated margin mode is not modified'),
  openOrders: () => new BybitError(110028, 'You have existing open orders, so position mode cannot be switched'),
  leverageUnchanged: () => new BybitError(110043, 'Set leverage not modified'),
  duplicate: () => new BybitError(110072, 'OrderLinkedID is duplicate'),
  rising: (trigger: string, current: string) => new BybitError(110092, `expect Rising, but trigger_price[${trigger}] <= current[${current}]`),
  falling: (trigger: string, current: string) => new BybitError(110093, `expect Falling, but trigger_price[${trigger}] >= current[${current}]`),
  minNotional: () => new BybitError(110094, 'Order does not meet minimum order value 5USDT'),
  positionIdx: () => new BybitError(10001, 'position idx not match position mode'),
  marginModeFailed: () => new BybitError(3400045, 'Set margin mode failed'),
  zeroPosition: () => new BybitError(10001, 'can not set tp/sl/ts for zero position'),
} as const;

/** Translates an engine refusal into Bybit's answer. */
export function fromReject(error: unknown): BybitError {
  if (error instanceof BybitError) return error;
  if (!(error instanceof FuturesReject)) throw error;
  switch (error.reason) {
    case 'REDUCE_ONLY': return LinearErrors.reduceOnly();
    case 'INSUFFICIENT_MARGIN': return LinearErrors.insufficient();
    case 'MIN_NOTIONAL': return LinearErrors.minNotional();
    case 'QTY_STEP': return BybitErrors.params('Qty invalid');
    case 'QTY_RANGE': return BybitErrors.params('Qty invalid');
    case 'POSITION_SIDE': return LinearErrors.positionIdx();
    case 'DUPLICATE_ID': return LinearErrors.duplicate();
    case 'NOT_FOUND': return LinearErrors.notFound();
    case 'BAD_LEVERAGE': return BybitErrors.params('leverage invalid');
    case 'WOULD_TRIGGER': return BybitErrors.params('TriggerPrice invalid');
    case 'UNKNOWN_SYMBOL': return BybitErrors.params('symbol invalid');
    case 'HAS_POSITION': return LinearErrors.positionExists();
    case 'HAS_OPEN_ORDERS': return LinearErrors.openOrders();
  }
}
