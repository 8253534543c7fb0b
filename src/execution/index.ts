/**
 * Execution module: the SubscriptionExecutor component (durable intents, claims, orders via the
 * exchange module), its REST routes and metrics. app.ts builds `executorComponent` (role executor) and
 * `executionApiComponent` (role api) from what each uses.
 */
import type { PrismaClient } from '@prisma/client';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import type { KeyThrottle, VenueBudget } from '../exchange/index.js';
import type { TokenService } from '../http/auth.js';
import type { Logger } from '../lib/logger.js';
import type { SubscriptionKeys } from '../subscriptions/index.js';
import { SubscriptionExecutor } from './executor.js';
import { ExecutorMetrics } from './metrics.js';
import { FuturesReconciler } from './reconcile.js';
import { executionRoutes } from './routes.js';

export { SubscriptionExecutor } from './executor.js';
export { executionRoutes, executionView } from './routes.js';
export { clientOrderId } from './ids.js';
export { FuturesReconciler, type PollReport, type ReconcilerOptions } from './reconcile.js';

type ExecutorConfig = Pick<Config, 'tradingMode' | 'exchangeUrls' | 'executorConcurrency' | 'executorLeaseMs' | 'executorMaxAttempts' | 'executorPollMs'
  | 'executorRetryBaseMs' | 'exchangeTimeoutMs' | 'exchangeRecvWindowMs' | 'paperBalance' | 'executorStopLimitOffsetPercent' | 'reconcileIntervalMs'>;

/**
 * The executor as an app Component (role executor), with the futures reconciliation (reconcile.ts).
 * @param deps.throttle the per-key throttle test-keys shares; @param deps.budget the app's per-venue request budget
 * @param deps.keys the subscriptions module's key access (opens sealed keys, marks refused ones)
 */
export function executorComponent(deps: {
  config: ExecutorConfig; log: Logger; registry: Registry; pool: pg.Pool; bus: Bus; throttle: KeyThrottle; budget: VenueBudget; keys: SubscriptionKeys;
}): Component & { executor: SubscriptionExecutor; reconciler: FuturesReconciler } {
  const c = deps.config;
  const executor = new SubscriptionExecutor({
    pool: deps.pool, bus: deps.bus, keys: deps.keys, throttle: deps.throttle, budget: deps.budget, log: deps.log.child({ module: 'executor' }),
    metrics: (lag) => new ExecutorMetrics(deps.registry, lag),
  }, {
    mode: c.tradingMode, exchangeUrls: c.exchangeUrls, concurrencyPerExchange: c.executorConcurrency, leaseMs: c.executorLeaseMs,
    maxAttempts: c.executorMaxAttempts, pollMs: c.executorPollMs, retryBaseMs: c.executorRetryBaseMs,
    exchangeTimeoutMs: c.exchangeTimeoutMs, recvWindowMs: c.exchangeRecvWindowMs, paperBalance: c.paperBalance,
    stopLimitOffsetPercent: c.executorStopLimitOffsetPercent,
  });
  const reconciler = new FuturesReconciler({ pool: deps.pool, keys: deps.keys, throttle: deps.throttle, budget: deps.budget, log: deps.log.child({ module: 'reconcile' }), registry: deps.registry }, {
    intervalMs: c.reconcileIntervalMs, exchangeUrls: c.exchangeUrls, exchangeTimeoutMs: c.exchangeTimeoutMs, recvWindowMs: c.exchangeRecvWindowMs,
  });
  return {
    name: 'executor', executor, reconciler,
    start: async () => { await executor.start(); reconciler.start(); },
    stop: async () => { await reconciler.stop(); await executor.stop(); },
    health: () => executor.health(),
  };
}

/** Execution history routes (role api). */
export function executionApiComponent(deps: { prisma: PrismaClient; tokens: TokenService }): Component {
  return { name: 'executions-api', start: async () => {}, stop: async () => {}, routers: [executionRoutes(deps)] };
}
