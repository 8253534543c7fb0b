/**
 * Exchange module, the one place that knows venues: the ccxt factory (ccxt-factory.ts: every instance, its
 * options, budget, origin override and shared market list), the venue dialects, the trading adapter, the
 * public readers (candles, tickers, market lists), one error family (errors.ts), the cross-process key
 * throttle and the per-venue request budget every ccxt instance spends (budget.ts).
 */
export { ExchangeClients, classifyCcxtError, type TradingClient, type ExchangeOrder, type MarketRules, type OrderRequest, type ProtectiveRequest, type VenueQuote } from './trading-client.js';
export { createTickerSource, type TickerQuote, type TickerSource } from './ticker-feed.js';
export { createMarketListSource, type MarketListSource } from './reference-markets.js';
export { createPublicMarketData, type OhlcvCandle, type PublicMarketData } from './public-client.js';
export { ExchangeError, readFailure, type ExchangeErrorKind } from './errors.js';
export { dialectFor, DIALECT_IDS, type VenueDialect } from './dialects/index.js';
export { FuturesOperations, FuturesSettingsCache, futuresDialectFor, sharedFuturesSettings, type FuturesMarginMode, type FuturesOrder, type FuturesOperationsOptions, type FuturesPosition, type PositionMode, type PositionSide, type ProtectiveOrder } from './futures.js';
export { createKeyThrottle, keyScope, perKeyRate, type KeyThrottle } from './throttle.js';
export { createVenueBudget, ExchangeBusy, DEFAULT_BUDGET_SETTINGS, type BudgetSettings, type Traffic, type VenueBudget } from './budget.js';
export { attachBudget } from './budgeted-ccxt.js';
export { budgetEvents } from './budget-metrics.js';
export { CcxtFactory, venueProfile, type CcxtFactoryOptions, type CcxtInstanceOptions, type MarketType, type VenueProfile } from './ccxt-factory.js';
export { redirectCcxtTo, redirectFetch } from './local-origin.js';
export { FuturesMarket, type FuturesRules } from './futures-market.js';
export { FuturesAccount, FuturesAccounts, type ClosedFills, type FuturesAccountsOptions } from './futures-accounts.js';
