/**
 * Trade monitor module: closes open trades at their stop loss / take profit from live prices
 * (README "Trade monitor"). `monitorComponents(deps)` is what app.ts registers: the monitor itself
 * for the `monitor` role, and the distance route for the `api` role. The monitor's price feed is also
 * the reference market of the signal checks (deps.reference): read directly in its own process, shared
 * through Redis with the others.
 * Vocabulary: a WatchedTrade is an open trade with a level; a PriceTick one pair's new observation;
 * a Trigger a crossing found by a tick, closed as a CLOSE signal with source 'monitor'.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import { createMarketListSource, createTickerSource, type VenueBudget } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import type { SignalCoordinator } from '../signals/index.js';
import { PriceDemand } from './demand.js';
import type { ReferencePrices } from './reference-prices.js';
import { MonitorMetrics } from './metrics.js';
import { TradeMonitor } from './monitor.js';
import { monitorRoutes, type PriceLookup } from './routes.js';

export { TradeMonitor } from './monitor.js';
export { TriggerBook, type WatchedTrade, type PriceTick, type Trigger, type CloseReason } from './trigger-book.js';
export { distancePct } from './routes.js';
export { ReferencePrices, MONITOR_TOPICS } from './reference-prices.js';

/** Redis keys the monitor shares its prices and market list under. */
export function monitorKeys(redisPrefix: string, exchange: string) {
  return { pricesKey: `${redisPrefix}monitor:prices:${exchange}`, marketsKey: `${redisPrefix}monitor:markets:${exchange}` };
}

/** The monitor (role `monitor`) and its REST route (role `api`), sharing prices when in one process. */
export function monitorComponents(deps: {
  config: Pick<Config, 'roles' | 'redisPrefix' | 'monitor' | 'exchangeUrls' | 'exchangeTimeoutMs'>; log: Logger; registry: Registry;
  pool: pg.Pool; bus: Bus; redis?: Redis; coordinator: SignalCoordinator; reference: ReferencePrices; budget: VenueBudget;
}): (Component & { monitor?: TradeMonitor })[] {
  const list: (Component & { monitor?: TradeMonitor })[] = [];
  const c = deps.config;
  const { pricesKey, marketsKey } = monitorKeys(c.redisPrefix, c.monitor.exchange);
  let monitor: TradeMonitor | undefined;
  if (c.roles.has('monitor')) {
    const log = deps.log.child({ module: 'monitor' });
    const tickers = createTickerSource({ exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, marketReloadMs: Math.max(1000, c.monitor.intervalMs), budget: deps.budget });
    const marketSource = createMarketListSource({ exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, budget: deps.budget });
    const demand = new PriceDemand({
      pool: deps.pool, bus: deps.bus, redis: deps.redis, marketsKey, exchange: c.monitor.exchange, markets: marketSource, log,
      declaredReloadMs: Math.max(1000, c.monitor.syncMs * 6),
      // A signal on a pair the list lacks reloads it at most this often (an attacker cannot make us hammer the exchange).
      unlistedReloadMs: Math.max(1000, c.monitor.intervalMs * 30),
    });
    const m = new TradeMonitor({
      pool: deps.pool, bus: deps.bus, coordinator: deps.coordinator, tickers, log,
      metrics: (state) => new MonitorMetrics(deps.registry, state), redis: deps.redis, pricesKey, demand,
    }, { exchange: c.monitor.exchange, intervalMs: c.monitor.intervalMs, syncMs: c.monitor.syncMs, closeConcurrency: c.monitor.closeConcurrency, retryBaseMs: 500 });
    monitor = m;
    deps.reference.attachLocal({
      price: (pair) => m.feed.price(pair),
      markets: () => demand.markets(),
      noteInterest: (pair) => demand.note(pair),
      noteUnlisted: (pair) => demand.noteUnlisted(pair),
    });
    list.push({
      name: 'monitor', monitor: m,
      start: () => m.start(),
      stop: async () => { await m.stop(); await tickers.close(); await marketSource.close(); },
      health: () => m.health(),
    });
  } else if (c.roles.has('api') || c.roles.has('capturer')) {
    // Without a monitor here, the signal checks read what a monitor process shares (nothing without Redis).
    list.push({ name: 'reference-prices', start: () => deps.reference.start(), stop: () => deps.reference.stop() });
  }
  if (c.roles.has('api')) {
    const prices: PriceLookup = async (pairs) => {
      const out = new Map<string, { last: number; at: number }>();
      if (monitor) {
        for (const p of pairs) { const v = monitor.feed.price(p); if (v) out.set(p, { last: v.last, at: v.receivedAt }); }
      } else if (deps.redis && pairs.length) {
        const values = await deps.redis.hmget(pricesKey, ...pairs).catch(() => []);
        pairs.forEach((p, i) => { const v = values[i]; if (v) out.set(p, JSON.parse(v) as { last: number; at: number }); });
      }
      return out;
    };
    list.push({ name: 'monitor-api', start: async () => {}, stop: async () => {}, routers: [monitorRoutes({ pool: deps.pool, prices, exchange: c.monitor.exchange })] });
  }
  return list;
}
