/**
 * Fixtures of the futures executor tests (test/executor-futures*.test.ts, bench/futures.bench.ts): both futures
 * fakes (FakeBinanceFutures as 'binance', FakeBybitLinear as 'bybit') and what a test asks of them per venue
 * (where entries and protective orders go), futures subscriptions through the REST API, signals, final rows.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../../src/app.js';
import { client, registerUser } from './app.js';
import { FakeBinanceFutures } from './fake-exchange/binance-futures/server.js';
import { FakeBybitLinear } from './fake-exchange/bybit-linear/server.js';
import { waitFor } from './wait.js';

export interface FuturesVenueKit {
  id: 'binance' | 'bybit';
  fake: FakeBinanceFutures | FakeBybitLinear;
  /** Venue symbol of ETH/USDT. */
  eth: string;
  entryPath: string;
  protectivePath: string;
  leveragePath: string;
  marginPath: string;
}

export function futuresVenues(): FuturesVenueKit[] {
  return [
    { id: 'binance', fake: new FakeBinanceFutures(), eth: 'ETHUSDT', entryPath: '/fapi/v1/order', protectivePath: '/fapi/v1/algoOrder', leveragePath: '/fapi/v1/leverage', marginPath: '/fapi/v1/marginType' },
    { id: 'bybit', fake: new FakeBybitLinear(), eth: 'ETHUSDT', entryPath: '/v5/order/create', protectivePath: '/v5/order/create', leveragePath: '/v5/position/set-leverage', marginPath: '/v5/account/set-margin-mode' },
  ];
}

/** App settings pointing 'binance' and 'bybit' at the futures fakes (fast retries for tests). */
export async function futuresAppEnv(venues: FuturesVenueKit[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    ROLES: 'api,executor', TRADING_MODE: 'live', EXCHANGE_TIMEOUT_MS: '800', EXCHANGE_RECV_WINDOW_MS: '1000', EXECUTOR_LEASE_MS: '6000',
    EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
  };
  for (const v of venues) env[`EXCHANGE_URL_${v.id.toUpperCase()}`] = await v.fake.start();
  return env;
}

export interface Subscribed { user: { token: string }; apiKey: string; subId: string }

/** Subscriptions made by subscribeFutures in this process (see leaveNothingOpen). */
const made = new Set<string>();

/**
 * Run in after(): the positions and unfinished rows of this process's futures subscriptions must not outlive
 * it. Their keys are sealed with this process's random TEST_KEY and their fakes are gone: any later executor
 * on the database (its reconciler polls every live futures position) would try them again and again.
 */
export async function leaveNothingOpen(app: App | undefined, subscriptionIds: Iterable<string> = made): Promise<void> {
  const ids = [...subscriptionIds];
  if (!app || !ids.length) return;
  await app.db.prisma.executionLog.updateMany({ where: { subscriptionId: { in: ids }, status: 'PENDING' }, data: { status: 'FAILED', error: 'test ended before this row was done' } });
  await app.db.prisma.position.deleteMany({ where: { subscriptionId: { in: ids } } });
}

/** A futures subscription of a new user (a funded account on the fake unless `usdt` is 0). */
export async function subscribeFutures(app: App, v: FuturesVenueKit, strategyId: string, body: Record<string, unknown> = {}, usdt = 10_000): Promise<Subscribed> {
  const user = await registerUser(app);
  const apiKey = `key-${randomUUID()}`;
  const apiSecret = `secret-${randomUUID()}`;
  v.fake.addAccount(apiKey, apiSecret, { USDT: usdt });
  const r = await client(app).post('/api/subscriptions', { strategyId, exchange: v.id, market: 'futures', leverage: 5, sizing: { mode: 'quote', amount: 100 }, apiKey, apiSecret, ...body }, user.token);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  made.add(r.body.id as string);
  return { user, apiKey, subId: r.body.id as string };
}

export const futuresSignal = (app: App, strategyId: string, body: Record<string, unknown> = {}) =>
  app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, ...body } as never, 'api').then((r) => r.signal);

export const finalRow = (app: App, subscriptionId: string, signalId: string, ms = 20_000) => waitFor(`final row of ${subscriptionId}`, async () => {
  const row = await app.db.prisma.executionLog.findUnique({ where: { subscriptionId_signalId: { subscriptionId, signalId } } });
  return row && row.status !== 'PENDING' ? row : null;
}, ms);
