/**
 * Execution module: the SubscriptionExecutor component (durable intents, claims, orders via the
 * exchange module), its REST routes and metrics. `executorComponent(ctx)` is what app.ts registers.
 */
import type { AppContext, Component } from '../component.js';
import { createKeyThrottle } from '../exchange/index.js';
import { SubscriptionExecutor } from './executor.js';
import { ExecutorMetrics } from './metrics.js';
import { executionRoutes } from './routes.js';

export { SubscriptionExecutor } from './executor.js';
export { executionRoutes, executionView } from './routes.js';
export { clientOrderId } from './ids.js';

/** The executor as an app Component (routes are served by the api role's HTTP server). */
export function executorComponent(ctx: AppContext): Component & { executor: SubscriptionExecutor } {
  const c = ctx.config;
  const executor = new SubscriptionExecutor({
    pool: ctx.db.pool, bus: ctx.bus, keyring: ctx.keyring,
    throttle: createKeyThrottle(ctx.redis, c.redisPrefix), budget: ctx.exchangeBudget, log: ctx.log.child({ module: 'executor' }),
    metrics: (lag) => new ExecutorMetrics(ctx.metrics.registry, lag),
  }, {
    mode: c.tradingMode, exchangeUrls: c.exchangeUrls, concurrencyPerExchange: c.executorConcurrency, leaseMs: c.executorLeaseMs,
    maxAttempts: c.executorMaxAttempts, pollMs: c.executorPollMs, retryBaseMs: c.executorRetryBaseMs,
    exchangeTimeoutMs: c.exchangeTimeoutMs, recvWindowMs: c.exchangeRecvWindowMs, paperBalance: c.paperBalance,
    stopLimitOffsetPercent: c.executorStopLimitOffsetPercent,
  });
  return {
    name: 'executor', executor,
    start: () => executor.start(),
    stop: () => executor.stop(),
    health: () => executor.health(),
  };
}

/** Execution history routes; served by any process with the api role. */
export function executionRouter(ctx: AppContext) {
  return executionRoutes({ prisma: ctx.db.prisma, tokens: ctx.tokens });
}
