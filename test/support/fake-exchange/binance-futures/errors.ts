/**
 * Binance USDⓈ-M error bodies `{"code":N,"msg":"…"}` (HTTP 400 unless noted).
 * Codes and wording: Binance futures error-code page and the examples in
 * ccxt 4.5.84 js/src/binance.js `exceptions.linear` (e.g. -2019 "Margin is
 * insufficient.", -2022 "ReduceOnly Order is rejected.", -4164 "Order's
 * notional must be no smaller than 20 (unless you choose reduce only).").
 * ccxt picks this table only for the real https://fapi.binance.com/ URLs:
 * drive the fake through fetchImplementation, never rewritten URLs.
 */
import { BinanceError } from '../errors.js';
import { formatUnits } from '../decimal.js';
import { FuturesReject } from '../futures/types.js';

const e = (code: number, msg: string, status = 400) => new BinanceError(status, code, msg);
const plain = (v: bigint) => formatUnits(v, 8).replace(/\.?0+$/, '');

/** The errors FakeBinanceFutures raises. */
export const FapiErrors = {
  /** → BadRequest. In hedge mode reduceOnly must not be sent (New-Order doc). */
  reduceOnlyNotRequired: () => e(-1106, "Parameter 'reduceonly' sent when not required."),
  mandatory: (name: string) => e(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  invalidOrderType: () => e(-1116, 'Invalid orderType.'),
  invalidSide: () => e(-1117, 'Invalid side.'),
  invalidSymbol: () => e(-1121, 'Invalid symbol.'),
  illegalClientId: (name: string) => e(-1100, `Illegal characters found in parameter '${name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.`),
  precision: () => e(-1111, 'Precision is over the maximum defined for this asset.'),
  /** → InsufficientFunds. */
  margin: () => e(-2019, 'Margin is insufficient.'),
  /** → InvalidOrder. */
  reduceOnly: () => e(-2022, 'ReduceOnly Order is rejected.'),
  /** → OrderImmediatelyFillable. */
  wouldTrigger: () => e(-2021, 'Order would immediately trigger.'),
  notFound: () => e(-2013, 'Order does not exist.'),
  unknownOrder: () => e(-2011, 'Unknown order sent.'),
  qtyTooSmall: () => e(-4004, 'Quantity less than minimum quantity.'),
  qtyTooLarge: () => e(-4005, 'Quantity greater than maximum quantity.'),
  leverage: (value: string) => e(-4028, `Leverage ${value} is not valid`),
  /** → MarginModeAlreadySet (ccxt): "already set" is a success for us. */
  marginTypeUnchanged: () => e(-4046, 'No need to change margin type.'),
  marginTypeOpenOrders: () => e(-4047, 'Margin type cannot be changed if there exists open orders.'),
  marginTypePosition: () => e(-4048, 'Margin type cannot be changed if there exists position.'),
  /** → OperationRejected/BadRequest: "already set". */
  positionSideUnchanged: () => e(-4059, 'No need to change position side.'),
  positionSideMismatch: () => e(-4061, "Order's position side does not match user's setting."),
  dualOpenOrders: () => e(-4067, 'Position side cannot be changed if there exists open orders.'),
  dualPosition: () => e(-4068, 'Position side cannot be changed if there exists position.'),
  /** Duplicate newClientOrderId / clientAlgoId among open orders (-4116 DUPLICATED_CLIENT_ORDER_ID; algo code unconfirmed). */
  duplicate: () => e(-4116, 'ClientOrderId is duplicated.'),
  /** Since 2025-12-09 conditional types go to /fapi/v1/algoOrder (ccxt#27474). */
  useAlgo: () => e(-4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
  minNotional: (min: bigint) => e(-4164, `Order's notional must be no smaller than ${plain(min)} (unless you choose reduce only).`),
} as const;

/** Translates an engine refusal into Binance's answer. */
export function fromReject(error: unknown, minNotional = 0n): BinanceError {
  if (error instanceof BinanceError) return error;
  if (!(error instanceof FuturesReject)) throw error;
  switch (error.reason) {
    case 'REDUCE_ONLY': return FapiErrors.reduceOnly();
    case 'INSUFFICIENT_MARGIN': return FapiErrors.margin();
    case 'MIN_NOTIONAL': return FapiErrors.minNotional(minNotional);
    case 'QTY_STEP': return FapiErrors.precision();
    case 'QTY_RANGE': return FapiErrors.qtyTooSmall();
    case 'POSITION_SIDE': return FapiErrors.positionSideMismatch();
    case 'DUPLICATE_ID': return FapiErrors.duplicate();
    case 'NOT_FOUND': return FapiErrors.unknownOrder();
    case 'BAD_LEVERAGE': return FapiErrors.leverage(error.detail);
    case 'WOULD_TRIGGER': return FapiErrors.wouldTrigger();
    case 'UNKNOWN_SYMBOL': return FapiErrors.invalidSymbol();
    case 'HAS_POSITION': return FapiErrors.marginTypePosition();
    case 'HAS_OPEN_ORDERS': return FapiErrors.marginTypeOpenOrders();
  }
}
