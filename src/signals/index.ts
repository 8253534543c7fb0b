/** Signals module: coordinator (the one entry point), JSON store, ingest routes (`signalsApiComponent`). */
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Bus } from '../bus/index.js';
import type { Config } from '../config/index.js';
import type { TokenService } from '../http/auth.js';
import { createLimiter } from '../http/rate-limit.js';
import type { SignalCoordinator } from './coordinator.js';
import type { ReferenceMarket } from './reference.js';
import { badSecretKey, signalRoutes, type WebhookSecretCache } from './routes.js';

export { SignalCoordinator, type AcceptResult, type CoordinatorMetrics } from './coordinator.js';
export { SignalJsonStore, type StoreMetadata, type StoreMetrics } from './json-store.js';
export { MarketList, type ReferenceMarket, type ReferencePrice } from './reference.js';
export { SignalReader, signalHash } from './repository.js';
export { toSignal, toActiveTrade, toCompletedTrade, type SignalRowLike, type TradeRowLike } from './rows.js';
export { SignalLog, type ReadOptions } from './signal-log.js';
export { SignalLogFollower, followSignalLog, type FollowerOptions } from './log-follower.js';
export { checkConsistency, type ConsistencyReport } from './consistency.js';
export { signalRoutes, badSecretKey, WebhookSecretCache, signalSchema } from './routes.js';
export { parseSignalInput, PAIR_RE } from './validation.js';
export { fromTradingView, tickerToPair } from './tradingview.js';
export * from './types.js';

type IngestConfig = Pick<Config, 'redisPrefix' | 'autoCreateStrategies' | 'webhookRateLimitPerMinute' | 'webhookBadSecretRateLimitPerMinute'>;

/**
 * The ingest routes (role api) as a Component: POST /api/signals and the TradingView webhook, with their
 * limiters. (Typed by its shape: importing src/component.ts here would close a cycle through the monitor.)
 */
export function signalsApiComponent(deps: {
  config: IngestConfig; pool: pg.Pool; bus: Bus; coordinator: SignalCoordinator; tokens: TokenService; reference: ReferenceMarket;
  secrets: WebhookSecretCache; redis?: Redis;
}) {
  const { config: c, redis } = deps;
  const router = signalRoutes({
    pool: deps.pool, bus: deps.bus, coordinator: deps.coordinator, tokens: deps.tokens, autoCreateStrategies: c.autoCreateStrategies, reference: deps.reference, secrets: deps.secrets,
    // Two buckets: authenticated posts per strategy, wrong secrets per client IP (strangers never fill the first).
    webhookLimiter: createLimiter({ prefix: c.redisPrefix, name: 'webhook', perMinute: c.webhookRateLimitPerMinute, redis, key: (req) => `wh:${String(req.params.strategyId)}`, message: 'webhook rate limit for this strategy exceeded' }),
    badSecretLimiter: createLimiter({ prefix: c.redisPrefix, name: 'webhook-bad-secret', perMinute: c.webhookBadSecretRateLimitPerMinute, redis, key: badSecretKey, message: 'too many webhook posts with a wrong secret from this address; try again in a minute' }),
  });
  return { name: 'signals-api', start: async () => {}, stop: async () => {}, routers: [router] };
}
