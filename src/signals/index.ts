/** Signals module: coordinator (the one entry point), JSON store, ingest routes. */
export { SignalCoordinator, type AcceptResult, type EffectSink, type CoordinatorMetrics } from './coordinator.js';
export { SignalJsonStore, type StoreMetadata, type StoreMetrics } from './json-store.js';
export { MarketList, type ReferenceMarket, type ReferencePrice } from './reference.js';
export { SignalReader, toSignal, signalHash } from './repository.js';
export { checkConsistency, type ConsistencyReport } from './consistency.js';
export { signalRoutes, badSecretKey, WebhookSecretCache, signalSchema } from './routes.js';
export { parseSignalInput, PAIR_RE } from './validation.js';
export { fromTradingView, tickerToPair } from './tradingview.js';
export * from './types.js';
