/**
 * Exchange module: ccxt trading adapter, its error family, cross-process key throttle, the per-venue
 * request budget every ccxt instance spends (budget.ts), origin override.
 */
export { ExchangeClients, classifyCcxtError, type TradingClient, type ExchangeOrder, type MarketRules, type OrderRequest } from './trading-client.js';
export { ExchangeError, type ExchangeErrorKind } from './errors.js';
export { createKeyThrottle, keyScope, perKeyRate, type KeyThrottle } from './throttle.js';
export { createVenueBudget, ExchangeBusy, DEFAULT_BUDGET_SETTINGS, type BudgetSettings, type Traffic, type VenueBudget } from './budget.js';
export { attachBudget } from './budgeted-ccxt.js';
export { budgetEvents } from './budget-metrics.js';
export { pointCcxtAt } from './local-origin.js';
