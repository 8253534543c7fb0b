/**
 * MEXC spot v3 error bodies `{"code":N,"msg":"…"}`. Codes and wording follow
 * MEXC's error-code page (mexc.com/api-docs/spot-v3/error-code) and the
 * examples quoted in ccxt 4.5.84 js/src/mexc.js `exceptions`; ccxt maps them
 * by code (handleErrors runs on any JSON body whose code is not 0/200).
 */
import { BinanceError } from '../errors.js';

/** A MEXC rejection: HTTP status and its JSON body. */
export class MexcError extends Error {
  /** @param status HTTP status, @param code MEXC code, @param msg MEXC message */
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
  ) {
    super(`${status} ${code} ${msg}`);
  }
}

/** The errors the fake MEXC raises. */
export const MexcErrors = {
  /** ccxt comment "invalid access key" → BadRequest. */
  invalidKey: () => new MexcError(400, 10072, 'Api key info invalid'),
  /** → AuthenticationError. */
  badSignature: () => new MexcError(400, 700002, 'Signature for this request is not valid.'),
  /** → InvalidNonce. */
  outsideRecvWindow: () => new MexcError(400, 700003, 'Timestamp for this request is outside of the recvWindow.'),
  mandatory: (name: string) => new MexcError(400, 700004, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  invalidSymbol: () => new MexcError(400, -1121, 'Invalid symbol.'),
  invalidType: () => new MexcError(400, -1116, 'Invalid orderType.'),
  /** → InsufficientFunds (exact 30004 and broad "Insufficient position"). */
  insufficient: () => new MexcError(400, 30004, 'Insufficient position'),
  /** → InvalidOrder. Wording from ccxt's comment on 30002. */
  minAmount: (min: string) => new MexcError(400, 30002, `The minimum transaction volume cannot be less than :${min}`),
  quantityScale: () => new MexcError(400, 400, 'quantity scale is invalid'),
  /**
   * Duplicate newClientOrderId among open orders. MEXC documents no code for it
   * (EXCHANGES.md, MEXC §1); the fake answers Binance's wording, from which MEXC
   * v3 is derived. ccxt has no mapping for -2010 on mexc → ExchangeError.
   */
  duplicate: () => new MexcError(400, -2010, 'Duplicate order sent.'),
  /** → ExchangeError (ccxt has no -2013 entry for mexc), also briefly after a create (ccxt#21614). */
  notFound: () => new MexcError(400, -2013, 'Order does not exist.'),
  /** → BadRequest. */
  unknownOrder: () => new MexcError(400, -2011, 'Unknown order sent.'),
  /** JSON 429 → RateLimitExceeded (ccxt exact '429'). */
  tooMany: () => new MexcError(429, 429, 'Too Many Requests'),
  internal: () => new MexcError(500, 500, 'Internal error'),
} as const;

/** Translates an Engine (Binance-shaped) rejection into MEXC's answer. */
export function fromEngineError(error: unknown, minNotional: string): MexcError {
  if (error instanceof MexcError) return error;
  if (!(error instanceof BinanceError)) return MexcErrors.internal();
  if (error.msg === 'Account has insufficient balance for requested action.') return MexcErrors.insufficient();
  if (error.msg === 'Duplicate order sent.') return MexcErrors.duplicate();
  if (error.msg === 'Filter failure: NOTIONAL') return MexcErrors.minAmount(minNotional);
  if (error.msg.startsWith('Filter failure')) return MexcErrors.quantityScale();
  if (error.code === -1121) return MexcErrors.invalidSymbol();
  if (error.code === -2013) return MexcErrors.notFound();
  if (error.code === -2011) return MexcErrors.unknownOrder();
  if (error.code === -1102) return new MexcError(400, 700004, error.msg);
  return new MexcError(400, error.code, error.msg);
}
