/**
 * Trade monitor module: closes open trades at their stop loss / take profit from live prices
 * (README "Trade monitor"). `monitorComponents(ctx)` is what app.ts registers: the monitor itself
 * for the `monitor` role, and the distance route for the `api` role. The monitor's price feed is also
 * the reference market of the signal checks (ctx.reference): read directly in its own process, shared
 * through Redis with the others.
 * Vocabulary: a WatchedTrade is an open trade with a level; a PriceTick one pair's new observation;
 * a Trigger a crossing found by a tick, closed as a CLOSE signal with source 'monitor'.
 */
import type { AppContext, Component } from '../component.js';
import { createMarketListSource, createTickerSource } from '../exchange/index.js';
import { PriceDemand } from './demand.js';
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
export function monitorComponents(ctx: AppContext): (Component & { monitor?: TradeMonitor })[] {
  const list: (Component & { monitor?: TradeMonitor })[] = [];
  const c = ctx.config;
  const { pricesKey, marketsKey } = monitorKeys(c.redisPrefix, c.monitor.exchange);
  let monitor: TradeMonitor | undefined;
  if (c.roles.has('monitor')) {
    const log = ctx.log.child({ module: 'monitor' });
    const tickers = createTickerSource({ exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, marketReloadMs: Math.max(1000, c.monitor.intervalMs), budget: ctx.exchangeBudget });
    const marketSource = createMarketListSource({ exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, budget: ctx.exchangeBudget });
    const demand = new PriceDemand({
      pool: ctx.db.pool, bus: ctx.bus, redis: ctx.redis, marketsKey, exchange: c.monitor.exchange, markets: marketSource, log,
      declaredReloadMs: Math.max(1000, c.monitor.syncMs * 6),
      // A signal on a pair the list lacks reloads it at most this often (an attacker cannot make us hammer the exchange).
      unlistedReloadMs: Math.max(1000, c.monitor.intervalMs * 30),
    });
    const m = new TradeMonitor({
      pool: ctx.db.pool, bus: ctx.bus, coordinator: ctx.coordinator, tickers, log,
      metrics: (state) => new MonitorMetrics(ctx.metrics.registry, state), redis: ctx.redis, pricesKey, demand,
    }, { exchange: c.monitor.exchange, intervalMs: c.monitor.intervalMs, syncMs: c.monitor.syncMs, closeConcurrency: c.monitor.closeConcurrency, retryBaseMs: 500 });
    monitor = m;
    ctx.reference.attachLocal({
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
    list.push({ name: 'reference-prices', start: () => ctx.reference.start(), stop: () => ctx.reference.stop() });
  }
  if (c.roles.has('api')) {
    const prices: PriceLookup = async (pairs) => {
      const out = new Map<string, { last: number; at: number }>();
      if (monitor) {
        for (const p of pairs) { const v = monitor.feed.price(p); if (v) out.set(p, { last: v.last, at: v.receivedAt }); }
      } else if (ctx.redis && pairs.length) {
        const values = await ctx.redis.hmget(pricesKey, ...pairs).catch(() => []);
        pairs.forEach((p, i) => { const v = values[i]; if (v) out.set(p, JSON.parse(v) as { last: number; at: number }); });
      }
      return out;
    };
    list.push({ name: 'monitor-api', start: async () => {}, stop: async () => {}, routers: [monitorRoutes({ pool: ctx.db.pool, prices, exchange: c.monitor.exchange })] });
  }
  return list;
}
