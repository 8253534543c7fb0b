/**
 * Exchange module: ccxt trading adapter, its error family, cross-process key throttle, the per-venue
 * request budget every ccxt instance spends (budget.ts), origin override.
 */
export { ExchangeClients, classifyCcxtError, type TradingClient, type ExchangeOrder, type MarketRules, type OrderRequest, type ProtectiveRequest, type VenueQuote } from './trading-client.js';
export { createTickerSource, type TickerQuote, type TickerSource } from './ticker-feed.js';
export { createMarketListSource, type MarketListSource } from './reference-markets.js';
export { createPublicMarketData, type OhlcvCandle, type PublicMarketData } from './public-client.js';
export { ExchangeError, type ExchangeErrorKind } from './errors.js';
export { dialectFor, DIALECT_IDS, type VenueDialect } from './dialects/index.js';
export { createKeyThrottle, keyScope, perKeyRate, type KeyThrottle } from './throttle.js';
export { createVenueBudget, ExchangeBusy, DEFAULT_BUDGET_SETTINGS, type BudgetSettings, type Traffic, type VenueBudget } from './budget.js';
export { attachBudget } from './budgeted-ccxt.js';
export { budgetEvents } from './budget-metrics.js';
export { pointCcxtAt } from './local-origin.js';
