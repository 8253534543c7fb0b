/**
 * Shared by the trade monitor test files. The monitor watches every open trade in its database, so
 * these suites use a database of their own, recreated once per test run: other suites' trades are
 * never priced or closed by a monitor under test.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { App } from '../src/app.js';
import { migrate } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { TradeMonitor } from '../src/monitor/index.js';
import { startTestApp } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { FakeBinance } from './support/fake-exchange.js';

const DB_NAME = 'signal_marketplace_monitor_test';
export const MONITOR_DB_URL = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${DB_NAME}` }).toString();
/** Fast polls for tests (the fake exchange's weight limit must be lifted for them). */
export const MONITOR_ENV = { MONITOR_INTERVAL_MS: '100', MONITOR_SYNC_MS: '200' };

let ready: Promise<void> | undefined;

/** Drops, recreates and migrates the monitor test database, once per process. */
export function monitorDatabase(): Promise<void> {
  return (ready ??= (async () => {
    const admin = new pg.Client({ connectionString: Object.assign(new URL(TEST_DATABASE_URL), { pathname: '/postgres' }).toString() });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${DB_NAME}"`);
    } finally { await admin.end(); }
    await migrate(MONITOR_DB_URL, createLogger('warn'));
  })());
}

export { waitFor } from './support/wait.js';

/**
 * Registers before/after hooks in the calling describe: the monitor database, a fake Binance whose weight
 * limit allows the fast polls, a pool on the database and an app on it with `env` (plus
 * EXCHANGE_URL_BINANCE); stops them after. The returned object holds them once `before` has run.
 */
export function useMonitorSuite(env: Record<string, string>): { fake: FakeBinance; app: App; db: pg.Pool } {
  const s = {} as { fake: FakeBinance; app: App; db: pg.Pool };
  before(async () => {
    await monitorDatabase();
    s.fake = new FakeBinance({ weightLimitPerMinute: 1_000_000 }); // polls every 100 ms: far over Binance's weight budget
    await s.fake.start();
    s.db = new pg.Pool({ connectionString: MONITOR_DB_URL, max: 2 });
    s.app = await startTestApp({ DATABASE_URL: MONITOR_DB_URL, EXCHANGE_URL_BINANCE: s.fake.origin, ...env });
  });
  after(async () => { await s.app?.stop(); await s.db?.end(); await s.fake?.stop(); });
  return s;
}

/** A market of its own on the fake exchange, so no two tests share a price. */
export function newPair(fake: FakeBinance, price: number): string {
  const base = `M${randomBytes(3).toString('hex').toUpperCase()}`;
  fake.addMarket({ base, quote: 'USDT', price, tickSize: '0.0001', stepSize: '0.001', minQty: '0.001', minNotional: '1' });
  return `${base}/USDT`;
}

export const monitorOf = (app: App) => (app.components.find((c) => c.name === 'monitor') as unknown as { monitor: TradeMonitor }).monitor;

/**
 * A market added to the fake exchange after `app` started is not in its monitor's market list yet, and a
 * strategy without declared pairs only accepts listed pairs: reload the list (no-op without a monitor).
 */
export async function listedIn(app: App, ...pairs: string[]): Promise<void> {
  const demand = (app.components.find((c) => c.name === 'monitor') as unknown as { monitor?: TradeMonitor } | undefined)?.monitor?.demand;
  if (!demand || pairs.every((p) => demand.markets()?.has(p))) return;
  await demand.reloadMarkets();
  for (const p of pairs) if (!demand.markets()?.has(p)) throw new Error(`${p} is not in the reference market list after a reload`);
}

/** Opens a trade through `a`'s coordinator for a strategy (auto-created, fresh by default); returns its ids. */
export async function openTrade(a: App, db: pg.Pool, pair: string, direction: 'LONG' | 'SHORT', price: number, stopLoss?: number, takeProfit?: number, strategyId: string = randomUUID()) {
  await listedIn(a, pair);
  const r = await a.coordinator.accept({ strategyId, pair, action: 'OPEN', direction, price, stopLoss, takeProfit }, 'api', { autoCreate: { name: 'monitor test' } });
  const { rows: [t] } = await db.query(`SELECT id FROM "Trade" WHERE "openSignalId" = $1`, [r.signal.id]);
  return { strategyId, tradeId: t.id as string };
}

/** CLOSE signals of one strategy on one pair. */
export async function closeSignals(db: pg.Pool, strategyId: string, pair: string) {
  return (await db.query(`SELECT source, reason, price::float8 AS price, "idempotencyKey" FROM "Signal" WHERE "strategyId" = $1 AND pair = $2 AND action = 'CLOSE'`, [strategyId, pair])).rows;
}
