/**
 * Composition root: config → logger → database/bus → modules → HTTP server; `stop()` tears down in
 * reverse. main.ts and the tests build the app the same way (tests with port 0).
 * Long-lived parts implement Component. Each module's index exports factories taking only what they use;
 * `moduleComponents` below builds them for this process's roles, and every module router reaches the HTTP
 * server through its component (app.ts mounts only /health and /openapi.json itself).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createBus } from './bus/index.js';
import { capturerComponent, chartPagesComponent } from './capture/index.js';
import { distributionComponent } from './distribution/index.js';
import type { Config } from './config/index.js';
import { openDatabase } from './db/index.js';
import { TokenService } from './http/auth.js';
import { healthRoutes, type HealthCheck } from './http/health.js';
import { openApiRoutes } from './http/openapi.js';
import { createExpressApp } from './http/server.js';
import { listenOwnPort } from './http/metrics-server.js';
import { budgetEvents, createKeyThrottle, createVenueBudget } from './exchange/index.js';
import { Keyring } from './lib/crypto.js';
import { createLogger, type Logger } from './lib/logger.js';
import { logRedisState } from './lib/redis-state.js';
import { executionApiComponent, executorComponent } from './execution/index.js';
import { marketplaceComponent } from './marketplace/index.js';
import { Metrics } from './metrics/index.js';
import type { AppContext, Component } from './component.js';
import { monitorComponents, monitorKeys, ReferencePrices } from './monitor/index.js';
import { notificationComponents } from './notifications/index.js';
import { SignalCoordinator, SignalJsonStore, SignalLog, SignalReader, signalsApiComponent, WebhookSecretCache } from './signals/index.js';
import { createSubscriptions, subscriptionsApiComponent } from './subscriptions/index.js';

export type { AppContext, Component } from './component.js';

export interface App extends AppContext {
  server?: http.Server;
  url: string;
  components: Component[];
  stop(): Promise<void>;
}

export async function buildApp(config: Config, opts: { log?: Logger; extraComponents?: (ctx: AppContext) => Component[] } = {}): Promise<App> {
  const log = opts.log ?? createLogger(config.logLevel);
  // Under PM2 every series carries the instance number (`worker`), so cluster workers never look like one process.
  const metrics = new Metrics(config.metricsServer.worker === undefined ? {} : { worker: config.metricsServer.worker });
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => { for (const f of cleanup.splice(0).reverse()) await f().catch((err) => log.error({ err }, 'stop step failed')); };
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax, migrate: true, log });
    cleanup.push(() => db.stop());
    const bus = createBus(config.redisUrl, log, config.redisPrefix);
    await bus.start();
    cleanup.push(() => bus.stop());
    const redis = config.redisUrl ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
    if (redis) {
      // One warning when Redis goes away and one line when it is back, not one per reconnect attempt.
      const detach = logRedisState(redis, log, { name: 'app' });
      cleanup.push(async () => { detach(); await redis.quit().catch(() => {}); });
    }

    const keyring = new Keyring(config.keyEncryptionKey, config.previousEncryptionKeys);
    const exchangeBudget = createVenueBudget({
      redis, prefix: config.redisPrefix, settings: config.exchangeBudget, events: budgetEvents(metrics.registry, log.child({ module: 'exchange-budget' })),
      onStoreError: (err) => log.warn({ err }, 'exchange budget: Redis failed; counting in this process'),
    });
    // Writes confirm the token's account still exists (a deleted user's token → 401, not a failed insert).
    const tokens = new TokenService(config.jwtSecret, config.jwtExpiresIn, async (id) => (await db.prisma.user.count({ where: { id } })) > 0);
    const reader = new SignalReader(db.prisma);
    const store = config.roles.has('store')
      ? new SignalJsonStore({ dataDir: config.dataDir, reader, signalLog: new SignalLog(db.pool), bus, log, metrics: metrics.store(), pollMs: config.storePollMs })
      : undefined;
    if (store) { await store.start(); cleanup.push(() => store.stop()); }
    const reference = new ReferencePrices({
      exchange: config.monitor.exchange, maxAgeMs: config.priceMaxAgeMs, bus, redis, ...monitorKeys(config.redisPrefix, config.monitor.exchange),
      refreshMs: Math.max(1000, Math.min(config.monitor.intervalMs, config.priceMaxAgeMs / 3)), log: log.child({ module: 'reference-prices' }),
    });
    const coordinator = new SignalCoordinator({ pool: db.pool, bus, log, dedupWindowMs: config.dedupWindowMs, metrics: metrics.coordinator(), reference, priceBandPercent: config.priceBandPercent });
    const ctx: AppContext = { config, log, metrics, db, bus, redis, keyring, tokens, coordinator, reader, store, reference, exchangeBudget };

    const components = [...moduleComponents(ctx), ...(opts.extraComponents?.(ctx) ?? [])];
    for (const c of components) { await c.start(); cleanup.push(() => c.stop()); }

    // While stopping, /health answers 503 so PM2/nginx/monitors stop routing here before the listener closes.
    let stopping = false;
    const checks = new Map<string, HealthCheck>([
      ['process', async () => ({ ok: !stopping, state: stopping ? 'stopping' : 'running', pid: process.pid, uptimeSeconds: Math.round(process.uptime()), rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) })],
      ['db', async () => { await db.prisma.$queryRaw`SELECT 1`; return { ok: true, embedded: db.embedded }; }],
      ['bus', async () => ({ ok: await bus.healthy(), kind: bus.kind })],
    ]);
    if (store) checks.set('store', async () => ({ ok: true, lastSeq: store.metadata().lastSeq }));
    for (const c of components) if (c.health) checks.set(c.name, c.health);

    let server: http.Server | undefined;
    let url = '';
    if (config.roles.has('api')) {
      const app = createExpressApp({
        log, metrics, bodyLimit: config.bodyLimit, trustProxy: config.trustProxy,
        routers: [
          healthRoutes(checks, metrics, config.operatorNetworks),
          openApiRoutes(),
          // Observers of requests other routers answer (the authors' webhook-refusal digest) come first.
          ...components.flatMap((c) => c.earlyRouters ?? []),
          ...components.flatMap((c) => c.routers ?? []),
        ],
      });
      server = http.createServer(app);
      server.keepAliveTimeout = 65_000;
      for (const c of components) c.attach?.(server);
      await new Promise<void>((resolve, reject) => { server!.once('error', reject); server!.listen(config.port, config.host, () => resolve()); });
      const port = (server.address() as AddressInfo).port;
      url = `http://127.0.0.1:${port}`;
      const srv = server;
      cleanup.push(() => new Promise<void>((resolve) => { srv.close(() => resolve()); srv.closeIdleConnections(); setTimeout(() => { srv.closeAllConnections(); }, 5000).unref(); }));
      log.info({ url, roles: [...config.roles] }, 'listening');
    } else if (config.port > 0) {
      // Executor/capturer processes: /health and /metrics only, so each PM2 app can be probed on its own port.
      server = http.createServer(createExpressApp({ log, metrics, bodyLimit: config.bodyLimit, trustProxy: config.trustProxy, routers: [healthRoutes(checks, metrics, config.operatorNetworks)] }));
      await new Promise<void>((resolve, reject) => { server!.once('error', reject); server!.listen(config.port, config.host, () => resolve()); });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const srv = server;
      cleanup.push(() => new Promise<void>((resolve) => { srv.close(() => resolve()); srv.closeAllConnections(); }));
      log.info({ url, roles: [...config.roles] }, 'health endpoint listening');
    }
    if (config.metricsServer.port > 0) {
      // This process alone on its own port (each PM2 cluster worker scraped separately).
      const own = listenOwnPort(createExpressApp({ log, metrics, bodyLimit: config.bodyLimit, trustProxy: config.trustProxy, routers: [healthRoutes(checks, metrics, config.operatorNetworks)] }),
        config.metricsServer.port, config.metricsServer.host, log);
      cleanup.push(() => own.close());
    }
    let stopped: Promise<void> | undefined;
    return { ...ctx, server, url, components, stop: () => (stopped ??= (stopping = true, stopAll())) };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The modules' long-lived parts for this process's roles, each factory handed only what it uses (the
 * wiring is here and nowhere else). The subscriptions repository is shared: its routes, the executor's
 * key access and the WebSocket routing table all go through it.
 */
function moduleComponents(ctx: AppContext): Component[] {
  const { config, log, db, bus, redis, tokens, coordinator, reference } = ctx;
  const { roles } = config;
  const registry = ctx.metrics.registry;
  const budget = ctx.exchangeBudget;
  const subscriptions = createSubscriptions({ prisma: db.prisma, keyring: ctx.keyring, bus });
  // One per-key throttle for orders and key tests (shared with other processes through Redis).
  const throttle = createKeyThrottle(redis, config.redisPrefix);
  const webhookSecrets = new WebhookSecretCache();
  const list: Component[] = [];
  if (roles.has('executor')) list.push(executorComponent({ config, log, registry, pool: db.pool, bus, throttle, budget, keys: subscriptions }));
  if (roles.has('api')) list.push(executionApiComponent({ prisma: db.prisma, tokens }), chartPagesComponent({ config, budget, prisma: db.prisma, tokens, bus }));
  if (roles.has('capturer')) list.push(capturerComponent({ config, log, registry, coordinator, prisma: db.prisma, bus }));
  if (roles.has('api')) {
    list.push(
      distributionComponent({ config, log, registry, prisma: db.prisma, reader: ctx.reader, bus, tokens, subscriptions, redis }),
      marketplaceComponent({ config, prisma: db.prisma, tokens, bus, redis, prices: reference, onSecretRotated: (id) => webhookSecrets.drop(id) }),
      subscriptionsApiComponent({ config, subscriptions, tokens, budget, throttle, redis }),
      signalsApiComponent({ config, pool: db.pool, bus, coordinator, tokens, reference, secrets: webhookSecrets, redis }),
    );
  }
  // The monitor for role monitor, its route for role api; settings REST for role api, delivery for role notifier.
  list.push(...monitorComponents({ config, log, registry, pool: db.pool, bus, redis, coordinator, reference, budget }));
  list.push(...notificationComponents({ config, log, registry, db, bus, tokens, keyring: ctx.keyring }));
  return list;
}
