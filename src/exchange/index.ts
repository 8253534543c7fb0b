/** Exchange module: ccxt trading adapter, its error family, cross-process key throttle, origin override. */
export { ExchangeClients, classifyCcxtError, type TradingClient, type ExchangeOrder, type MarketRules, type OrderRequest } from './trading-client.js';
export { ExchangeError, type ExchangeErrorKind } from './errors.js';
export { createKeyThrottle, type KeyThrottle } from './throttle.js';
export { pointCcxtAt } from './local-origin.js';
