/**
 * Binance's native error bodies. The fake answers with exactly these so that
 * ccxt's own error mapping (binance.handleErrors / exceptions tables) runs.
 */

/** A rejection carrying Binance's HTTP status and `{code, msg}` body. */
export class BinanceError extends Error {
  /** @param status HTTP status, @param code Binance error code, @param msg Binance message */
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${code} ${msg}`);
  }

  /** The JSON body Binance sends. */
  body(): { code: number; msg: string } {
    return { code: this.code, msg: this.msg };
  }
}

/** Shape accepted wherever a test configures an error to return. */
export interface BinanceErrorSpec {
  status?: number;
  code: number;
  msg: string;
}

/** Builds a BinanceError from a spec (HTTP 400 unless given). */
export function fromSpec(spec: BinanceErrorSpec): BinanceError {
  return new BinanceError(spec.status ?? 400, spec.code, spec.msg);
}

/** Catalogue of the errors the fake raises, with Binance's wording. */
export const Errors = {
  invalidApiKey: () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  apiKeyFormat: () => new BinanceError(401, -2014, 'API-key format invalid.'),
  badSignature: () => new BinanceError(400, -1022, 'Signature for this request is not valid.'),
  outsideRecvWindow: () => new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  aheadOfServer: () =>
    new BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  recvWindowTooLarge: () => new BinanceError(400, -1131, 'recvWindow must be less than 60000'),
  mandatory: (name: string) =>
    new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  illegalNumber: (name: string) =>
    new BinanceError(
      400,
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
    ),
  illegalClientId: () =>
    new BinanceError(
      400,
      -1100,
      "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
    ),
  notRequired: (name: string) => new BinanceError(400, -1106, `Parameter '${name}' sent when not required.`),
  invalidSymbol: () => new BinanceError(400, -1121, 'Invalid symbol.'),
  invalidInterval: () => new BinanceError(400, -1120, 'Invalid interval.'),
  invalidOrderType: () => new BinanceError(400, -1116, 'Invalid orderType.'),
  invalidSide: () => new BinanceError(400, -1117, 'Invalid side.'),
  invalidTif: () => new BinanceError(400, -1115, 'Invalid timeInForce.'),
  filter: (name: string) => new BinanceError(400, -1013, `Filter failure: ${name}`),
  marketClosed: () => new BinanceError(400, -1013, 'Market is closed.'),
  insufficientBalance: () => new BinanceError(400, -2010, 'Account has insufficient balance for requested action.'),
  duplicateOrder: () => new BinanceError(400, -2010, 'Duplicate order sent.'),
  wouldTrigger: () => new BinanceError(400, -2010, 'Order would trigger immediately.'),
  wouldMatch: () => new BinanceError(400, -2010, 'Order would immediately match and take.'),
  /** Binance errors.md, messages of -2010 NEW_ORDER_REJECTED (their wording, "support" included). */
  quoteQtyNotAllowed: () => new BinanceError(400, -2010, 'Quote order qty market orders are not support for this symbol.'),
  unknownOrderCancel: () => new BinanceError(400, -2011, 'Unknown order sent.'),
  orderDoesNotExist: () => new BinanceError(400, -2013, 'Order does not exist.'),
  tooMuchWeight: (limit: number) =>
    new BinanceError(
      429,
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
    ),
} as const;
