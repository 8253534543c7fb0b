/**
 * Fake Binance SPOT exchange for tests: a node:http server that the real
 * `ccxt.binance` talks to (after `redirectCcxtTo(exchange, origin)`), enforcing
 * Binance's auth, filters, balances and error bodies. Implementation in
 * ./fake-exchange/*.ts.
 *
 * Findings from ccxt 4.5.84 (js/src/binance.js, base/Exchange.js):
 * - Client order id: createOrder reads params.clientOrderId or
 *   params.newClientOrderId (also clientAlgoId) and sends `newClientOrderId`;
 *   without one ccxt invents 'x-TKT5PX2F' + uuid22, so a blind retry is a new
 *   order. fetchOrder/cancelOrder read params.clientOrderId or
 *   params.origClientOrderId and send `origClientOrderId`; the `id` argument is
 *   then ignored (pass ''), and `symbol` is required.
 * - Spot only, no sapi/fapi/dapi during loadMarkets: options
 *   { defaultType: 'spot', fetchMarkets: { types: ['spot'] },
 *     fetchCurrencies: false, fetchMargins: false }.
 *   fetchCurrencies defaults to true and calls /sapi/v1/capital/config/getall
 *   whenever credentials are set; fetchMargins defaults to true and calls
 *   /sapi/v1/margin/allPairs + isolated/allPairs with credentials. Default
 *   fetchMarkets types are spot, linear, inverse (fapi + dapi exchangeInfo).
 *   Market orders: ccxt sends `quantity` unless params.cost/quoteOrderQty or a
 *   price is given (then `quoteOrderQty` = amount × price).
 * - ccxt validates the type against exchangeInfo `orderTypes`, truncates the
 *   amount to stepSize and rounds the price to tickSize before sending, so
 *   via createOrder LOT_SIZE is only reachable through minQty/maxQty and
 *   PRICE_FILTER through min/maxPrice (the implicit API, e.g.
 *   exchange.privatePostOrder({...}), sends raw values).
 * - Error mapping (checked in tests): HTTP 429/418 → DDoSProtection (before
 *   any body check; not RateLimitExceeded); body containing 'LOT_SIZE' or
 *   'PRICE_FILTER' → InvalidOrder; -1013 "Filter failure: NOTIONAL" →
 *   BadRequest (NOT InvalidOrder); -2010 "Account has insufficient balance
 *   for requested action." → InsufficientFunds (exact message); -2010
 *   "Duplicate order sent." → InvalidOrder; "Order would trigger
 *   immediately." → OrderImmediatelyFillable; -2013/-2011 → OrderNotFound;
 *   -2015 → AuthenticationError, but DDoSProtection once any private call on
 *   that instance has succeeded (options.hasAlreadyAuthenticatedSuccessfully);
 *   -1022 → AuthenticationError; -1021 → InvalidNonce; -1003 → RateLimitExceeded
 *   (only with a non-429 status); -1001 → OperationFailed (not a NetworkError);
 *   -1007 → RequestTimeout. Plain-text 5xx → ExchangeNotAvailable (503, 500,
 *   502) or RequestTimeout (504); client-side timeout → RequestTimeout; reset
 *   socket → NetworkError. ExchangeNotAvailable, DDoSProtection,
 *   RateLimitExceeded, RequestTimeout and InvalidNonce are NetworkError
 *   subclasses; NetworkError extends OperationFailed.
 * - Against a non-binance.com origin ccxt skips its per-market-type
 *   `exceptions.spot` table (chosen by URL prefix); the shared table agrees
 *   with it for all the codes above.
 */
export { FakeBinance, type FakeBinanceOptions, type FakeBinanceStats } from './fake-exchange/server.js';
export type { FaultAction, FaultMatch } from './fake-exchange/faults.js';
export type { Candle } from './fake-exchange/market-data.js';
export type { MarketSpec } from './fake-exchange/markets.js';
export type { DuplicateMode, OrderSnapshot } from './fake-exchange/types.js';
export type { BinanceErrorSpec } from './fake-exchange/errors.js';
export { signPayload } from './fake-exchange/auth.js';
export { localBinance, type LocalBinanceOptions } from './fake-exchange/ccxt-client.js';
// MEXC spot v3 and Bybit v5 spot front-ends on the same engine (./fake-exchange/{mexc,bybit,venue}).
export { FakeMexc, type FakeMexcOptions } from './fake-exchange/mexc/server.js';
export { FakeBybit, type FakeBybitOptions } from './fake-exchange/bybit/server.js';
export type { FakeVenueOptions } from './fake-exchange/venue/base.js';
export { localMexc, localBybit, type LocalVenueOptions } from './fake-exchange/venue/ccxt-clients.js';
// USDⓈ-margined perpetuals: Binance fapi and Bybit v5 linear front-ends on one futures engine (./fake-exchange/{futures,binance-futures,bybit-linear}).
export { FakeBinanceFutures, FAPI_BTCUSDT, FAPI_ETHUSDT, type FakeBinanceFuturesOptions } from './fake-exchange/binance-futures/server.js';
export { FakeBybitLinear, BYBIT_BTCUSDT, BYBIT_ETHUSDT, type FakeBybitLinearOptions } from './fake-exchange/bybit-linear/server.js';
export type { FuturesMarketSpec } from './fake-exchange/futures/types.js';
export { localBinanceUsdm, localBybitLinear, type LocalFuturesOptions } from './fake-exchange/futures/ccxt-clients.js';
