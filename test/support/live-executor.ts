/**
 * The fixture of the executor tests: fake spot venues and one app running the API and the
 * executor in live mode against them (real ccxt over HTTP, real PostgreSQL), plus the steps
 * every such test takes: subscribe a user with keys the fake knows, send a signal, wait for
 * the subscription's final execution row.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../../src/app.js';
import { client, registerUser, startTestApp } from './app.js';
import type { FakeBinance, FakeBybit, FakeMexc } from './fake-exchange.js';
import { waitFor } from './wait.js';

export type SpotVenue = 'binance' | 'mexc' | 'bybit';
export type SpotFake = FakeBinance | FakeMexc | FakeBybit;

/** Live mode with short timeouts, lease and poll, so that retries and lookups happen within a test. */
export const LIVE_EXECUTOR_ENV: Record<string, string> = {
  ROLES: 'api,executor', TRADING_MODE: 'live', EXCHANGE_TIMEOUT_MS: '800', EXCHANGE_RECV_WINDOW_MS: '1000',
  EXECUTOR_LEASE_MS: '4000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
};

/** The execution row of a subscription for a signal once it is no longer PENDING. */
export const finalRow = (app: App, subscriptionId: string, signalId: string) => waitFor(`final row of ${subscriptionId}`, async () => {
  const row = await app.db.prisma.executionLog.findUnique({ where: { subscriptionId_signalId: { subscriptionId, signalId } } });
  return row && row.status !== 'PENDING' ? row : null;
}, 15_000);

/** The outcomes an execution row's legs record, in order. */
export const historyOf = (row: { legs: unknown }) => ((row.legs as { history?: { outcome: string }[] }).history ?? []).map((h) => h.outcome);

export interface SubscribeOptions {
  /** Balances of the new account on the fake (default 10,000 USDT). */
  balances?: Record<string, number>;
  /** false: the keys are not registered on the fake (an invalid key). */
  register?: boolean;
  /** An existing user (default a new one). */
  user?: { token: string };
  /** Keys already on the fake (then nothing is registered). */
  apiKey?: string;
  apiSecret?: string;
}

/**
 * Registers before/after hooks in the calling describe: starts the fakes (EXCHANGE_URL_<VENUE> each)
 * and one live executor app on them (LIVE_EXECUTOR_ENV and `env`), and stops them after. Subscriptions
 * go to the first venue listed unless their body names an `exchange`.
 */
export function useLiveExecutor(fakes: Partial<Record<SpotVenue, SpotFake>>, env: Record<string, string> = {}) {
  let started: App | undefined;
  const venues = Object.entries(fakes) as [SpotVenue, SpotFake][];
  before(async () => {
    const urls: Record<string, string> = {};
    for (const [venue, fake] of venues) urls[`EXCHANGE_URL_${venue.toUpperCase()}`] = await fake.start();
    started = await startTestApp({ ...LIVE_EXECUTOR_ENV, ...urls, ...env });
  });
  after(async () => {
    await started?.stop();
    await Promise.all(venues.map(([, fake]) => fake.stop()));
  });
  const app = (): App => {
    if (started === undefined) throw new Error('the live executor app is started in a before hook');
    return started;
  };
  return {
    app,
    /** A user with an account on the fake venue and a subscription (quote 100 unless `body` says otherwise) holding its keys. */
    async subscribe(strategyId: string, body: Record<string, unknown> = {}, opts: SubscribeOptions = {}) {
      const exchange = (body.exchange as SpotVenue | undefined) ?? venues[0]![0];
      const user = opts.user ?? await registerUser(app());
      const apiKey = opts.apiKey ?? `key-${randomUUID()}`;
      const apiSecret = opts.apiSecret ?? `secret-${randomUUID()}`;
      if (opts.register !== false && opts.apiKey === undefined) fakes[exchange]!.addAccount(apiKey, apiSecret, opts.balances ?? { USDT: 10_000 });
      const r = await client(app()).post('/api/subscriptions', { strategyId, exchange, sizing: { mode: 'quote', amount: 100 }, apiKey, apiSecret, ...body }, user.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { user, apiKey, subId: r.body.id as string };
    },
    /** Accepts a signal as the API would (default: OPEN LONG ETH/USDT at 3000). */
    signal: (strategyId: string, body: Record<string, unknown> = {}) =>
      app().coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, ...body } as never, 'api').then((r) => r.signal),
    finalRow: (subscriptionId: string, signalId: string) => finalRow(app(), subscriptionId, signalId),
  };
}
