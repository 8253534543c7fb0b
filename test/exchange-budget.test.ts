/**
 * The per-venue request budget (src/exchange/budget.ts): every exchange call the server makes (orders,
 * test-keys, charts, tickers) spends one budget per venue, shared through Redis, with a share only orders
 * may use; a venue's 429/418 holds the other callers back for its Retry-After. Test-keys is limited per
 * user and passes the executor's per-key throttle. Real ccxt against the fake Binance, real PostgreSQL/Redis.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import ccxt from 'ccxt';
import { Redis } from 'ioredis';
import type { App } from '../src/app.js';
import { attachBudget, createVenueBudget, DEFAULT_BUDGET_SETTINGS, ExchangeBusy, keyScope, perKeyRate, type Traffic, type VenueBudget } from '../src/exchange/index.js';
import { KeyChecker } from '../src/subscriptions/index.js';
import { rateLimitPause, venueRef } from '../src/exchange/budgeted-ccxt.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { TEST_REDIS_URL } from './support/env.js';
import { FakeBinance } from './support/fake-exchange.js';
import { waitFor } from './support/wait.js';

const LIVE = {
  ROLES: 'api,executor', TRADING_MODE: 'live', EXCHANGE_TIMEOUT_MS: '5000', EXCHANGE_RECV_WINDOW_MS: '5000',
  EXECUTOR_LEASE_MS: '8000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200', CHART_CANDLE_CACHE_MS: '0',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Budgets and the fake count per UTC minute: start a scenario with at least `ms` of the minute left. */
async function freshMinute(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 50);
}

async function metric(app: App, name: string, labels: Record<string, string>): Promise<number> {
  const m = app.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values.filter((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val)).reduce((a, x) => a + x.value, 0);
}

/** A test app with its own fake venue; helpers for keyed subscriptions, signals and final rows. */
async function venueApp(fake: FakeBinance, env: Record<string, string>, redis = true) {
  const app = await startTestApp({ ...LIVE, EXCHANGE_URL_BINANCE: await fake.start(), ...env }, { redis });
  const api = client(app);
  async function keyed(strategyId: string) {
    const user = await registerUser(app);
    const apiKey = `key-${randomUUID()}`;
    const apiSecret = `secret-${randomUUID()}`;
    fake.addAccount(apiKey, apiSecret, { USDT: 10_000 });
    const r = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey, apiSecret }, user.token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { user, apiKey, subId: r.body.id as string };
  }
  const testKeys = (s: { subId: string; user: { token: string } }) => api.post(`/api/subscriptions/${s.subId}/test-keys`, undefined, s.user.token);
  const open = (strategyId: string) => app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 } as never, 'api').then((r) => r.signal);
  const finalRow = async (subscriptionId: string, signalId: string) => {
    const row = () => app.db.prisma.executionLog.findUnique({ where: { subscriptionId_signalId: { subscriptionId, signalId } } });
    try {
      return await waitFor(`final row of ${subscriptionId}`, async () => { const r = await row(); return r && r.status !== 'PENDING' ? r : null; }, 20_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await row())}`);
    }
  };
  return { app, api, keyed, testKeys, open, finalRow };
}

describe('exchange request budget: test-keys, charts and tickers can never starve orders', function () {
  this.timeout(90_000);

  describe('a flood of test-keys from many users', () => {
    // 300 weight per minute: 15 balance calls (weight 20 each). Today 25 test-keys in a second exhaust it.
    const fake = new FakeBinance({ weightLimitPerMinute: 300 });
    let v: Awaited<ReturnType<typeof venueApp>>;
    // Our budget: 50 units = 250 weight; test-keys and charts may spend half of it, orders all of it.
    before(async () => { v = await venueApp(fake, { EXCHANGE_BUDGET_PER_MINUTE_BINANCE: '50', EXCHANGE_BUDGET_MAX_WAIT_MS: '300' }); });
    after(async () => { await v?.app.stop(); await fake.stop(); });

    it('30 test-keys in one second from 10 users: the venue never answers 429, most are held back unsent, and the next OPEN executes SUCCESS at its first attempt', async () => {
      const flood = await seedStrategy(v.app);
      const users = await Promise.all(Array.from({ length: 10 }, () => v.keyed(flood.strategyId)));
      const { strategyId } = await seedStrategy(v.app);
      const subscriber = await v.keyed(strategyId);
      // The flood must fall in one minute (its counts are per minute); it takes a second or two. The OPEN may
      // fall in the next one: a fresh window only has more room. (30 s here cost 7.5 s of waiting on average.)
      await freshMinute(15_000);
      const accountCallsBefore = fake.requestCount('/api/v3/account', 'GET');

      const answers = await Promise.all(users.flatMap((u) => [v.testKeys(u), v.testKeys(u), v.testKeys(u)]));
      assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.map((a) => a.status)));
      const ok = answers.filter((a) => a.body.ok === true);
      const busy = answers.filter((a) => a.body.code === 'EXCHANGE_BUSY');
      assert.ok(ok.length >= 1 && ok.length <= 6, `${ok.length} tests reached the venue`);
      assert.equal(ok.length + busy.length, 30, JSON.stringify(answers.filter((a) => a.body.ok !== true && a.body.code !== 'EXCHANGE_BUSY').map((a) => a.body)));
      assert.ok(busy.every((a) => a.body.retryAfterSeconds >= 1 && /orders keep their share/.test(a.body.message)));
      assert.equal(busy[0]!.headers.get('retry-after'), String(busy[0]!.body.retryAfterSeconds));
      assert.equal(fake.requestCount('/api/v3/account', 'GET') - accountCallsBefore, ok.length, 'a held-back test sends nothing');
      assert.ok(fake.stats().usedWeight1m <= 300, `venue weight ${fake.stats().usedWeight1m} of 300: it answered 429`);

      const s = await v.open(strategyId);
      const row = await v.finalRow(subscriber.subId, s.id);
      assert.equal(row.status, 'SUCCESS', row.error ?? '');
      assert.equal(row.attempts, 1, 'the order never met a 429');
      assert.equal(fake.orders(subscriber.apiKey).length, 1);
      assert.ok(fake.stats().usedWeight1m <= 300, `venue weight ${fake.stats().usedWeight1m} of 300`);
    });
  });

  describe('per-user test-keys limit', () => {
    const fake = new FakeBinance();
    let v: Awaited<ReturnType<typeof venueApp>>;
    before(async () => { v = await venueApp(fake, { TEST_KEYS_RATE_LIMIT_PER_MINUTE: '3' }); });
    after(async () => { await v?.app.stop(); await fake.stop(); });

    it('a user testing keys a 4th time within a minute gets 429 RATE_LIMITED and the venue is not asked; another user is unaffected', async () => {
      const { strategyId } = await seedStrategy(v.app);
      const a = await v.keyed(strategyId);
      const b = await v.keyed(strategyId);
      await freshMinute(10_000);
      for (let i = 0; i < 3; i++) assert.equal((await v.testKeys(a)).body.ok, true);
      const before = fake.requestCount('/api/v3/account', 'GET');
      const limited = await v.testKeys(a);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'RATE_LIMITED');
      assert.match(limited.body.error.message, /at most 3 key tests per minute/);
      assert.equal(fake.requestCount('/api/v3/account', 'GET'), before);
      const other = await v.testKeys(b);
      assert.equal(other.status, 200);
      assert.equal(other.body.ok, true);
    });
  });

  describe("after the venue's 429 with Retry-After", () => {
    const fake = new FakeBinance();
    let v: Awaited<ReturnType<typeof venueApp>>;
    before(async () => { v = await venueApp(fake, { EXCHANGE_BUDGET_MAX_WAIT_MS: '10000' }); });
    after(async () => { await v?.app.stop(); await fake.stop(); });

    it('chart and test-keys calls wait out the Retry-After without touching the venue, while an OPEN placed meanwhile executes at once', async () => {
      const chartOwner = await seedStrategy(v.app);
      const chart = () => v.api.get(`/api/charts/${chartOwner.strategyId}/data?pair=${encodeURIComponent('BTC/USDT')}&tf=1m&strategy=ma-crossover&fast=2&slow=4&kind=sma`);
      const tester = await v.keyed(chartOwner.strategyId);
      const { strategyId } = await seedStrategy(v.app);
      const subscriber = await v.keyed(strategyId);
      await freshMinute(15_000);
      // Warm both ccxt instances (market lists), so only the calls under test remain.
      assert.equal((await chart()).status, 200);
      assert.equal((await v.testKeys(tester)).body.ok, true);

      fake.injectFault({ kind: 'rateLimit', retryAfterSec: 6 }, { path: '/api/v3/klines', times: 1 });
      const refused = await chart();
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      const t0 = Date.now();
      const klines = fake.requestCount('/api/v3/klines', 'GET');
      const accounts = fake.requestCount('/api/v3/account', 'GET');

      const heldChart = chart().then((r) => ({ r, ms: Date.now() - t0 }));
      const heldTest = v.testKeys(tester).then((r) => ({ r, ms: Date.now() - t0 }));
      const s = await v.open(strategyId);
      const row = await v.finalRow(subscriber.subId, s.id);
      const orderMs = Date.now() - t0;
      assert.equal(row.status, 'SUCCESS', row.error ?? '');
      assert.equal(row.attempts, 1);
      assert.ok(orderMs < 5000, `the order waited ${orderMs} ms`);
      // The order is done, the pause still runs: the held calls have not reached the venue.
      assert.equal(fake.requestCount('/api/v3/klines', 'GET'), klines);
      assert.equal(fake.requestCount('/api/v3/account', 'GET'), accounts);

      const [c, k] = await Promise.all([heldChart, heldTest]);
      assert.equal(c.r.status, 200, JSON.stringify(c.r.body));
      assert.equal(k.r.body.ok, true, JSON.stringify(k.r.body));
      assert.ok(c.ms >= 5500 && k.ms >= 5500, `chart after ${c.ms} ms, test-keys after ${k.ms} ms`);
      assert.equal(fake.requestCount('/api/v3/klines', 'GET'), klines + 1);
    });

    it('a pause longer than the wait bound answers EXCHANGE_BUSY at once (charts 503, test-keys ok:false) and sends nothing', async () => {
      const { strategyId } = await seedStrategy(v.app);
      const tester = await v.keyed(strategyId);
      await v.testKeys(tester);
      fake.injectFault({ kind: 'rateLimit', retryAfterSec: 30 }, { path: '/api/v3/account', times: 1 });
      assert.equal((await v.testKeys(tester)).body.code, 'EXCHANGE_TEMPORARY', 'the 429 itself');
      const accounts = fake.requestCount('/api/v3/account', 'GET');
      const t0 = Date.now();
      const r = await v.testKeys(tester);
      assert.ok(Date.now() - t0 < 1500);
      assert.equal(r.body.code, 'EXCHANGE_BUSY');
      assert.ok(r.body.retryAfterSeconds > 20 && r.body.retryAfterSeconds <= 30, String(r.body.retryAfterSeconds));
      const c = await v.api.get(`/api/charts/${strategyId}/data?pair=${encodeURIComponent('ETH/USDT')}&tf=1m&strategy=ma-crossover&fast=2&slow=4&kind=sma`);
      assert.equal(c.status, 503);
      assert.equal(c.body.error.code, 'EXCHANGE_BUSY');
      assert.equal(fake.requestCount('/api/v3/account', 'GET'), accounts);
      const venue = `binance@${new URL(fake.origin).host}`;
      assert.ok(await metric(v.app, 'exchange_rate_limited_total', { venue, status: '429' }) >= 2, 'operators see the 429s');
      assert.ok(await metric(v.app, 'exchange_budget_refused_total', { venue, traffic: 'other', reason: 'paused' }) >= 2, 'and the calls held back');
    });
  });

  describe('test-keys and the executor share the per-key throttle', () => {
    const fake = new FakeBinance();
    before(async () => { await fake.start(); });
    after(async () => { await fake.stop(); });

    it("a key test acquires the executor's throttle scope for that account (sha256 of the key, never the key) at ccxt's per-key rate", async () => {
      const seen: { scope: string; perSecond: number }[] = [];
      const checker = new KeyChecker({
        exchangeUrls: { binance: fake.origin }, timeoutMs: 5000, recvWindowMs: 5000, budget: createVenueBudget({ prefix: '' }),
        throttle: { acquire: async (scope, perSecond) => { seen.push({ scope, perSecond }); } },
      });
      const apiKey = `key-${randomUUID()}`;
      fake.addAccount(apiKey, 'secret', { USDT: 5 });
      assert.equal((await checker.check('binance', apiKey, 'secret')).ok, true);
      assert.deepEqual(seen, [{ scope: keyScope('binance', apiKey), perSecond: perKeyRate(Number(new ccxt.binance().rateLimit)) }]);
      assert.ok(!seen[0]!.scope.includes(apiKey));
      assert.equal(perKeyRate(50), 20);
    });
  });

  describe('the budget itself', () => {
    const venue = (b: VenueBudget, key = `v-${randomUUID()}`) => ({ id: 'binance', key, limit: b.limitFor('binance', 50) });
    const spend = async (b: VenueBudget, v: ReturnType<typeof venue>, traffic: Traffic, cost: number) => {
      let n = 0;
      for (;;) { try { await b.acquire(v, cost, traffic, 0); n++; } catch (err) { assert.ok(err instanceof ExchangeBusy); return n; } }
    };

    it('defaults to 80 % of what ccxt says the venue allows: binance 960 units (4800 of its 6000 weight) per minute', () => {
      const b = createVenueBudget({ prefix: '' });
      assert.equal(b.limitFor('binance', Number(new ccxt.binance().rateLimit)), 960);
      assert.equal(createVenueBudget({ prefix: '', settings: { ...DEFAULT_BUDGET_SETTINGS, perVenue: { binance: 100 } } }).limitFor('binance', 50), 100);
    });

    for (const store of ['memory', 'redis'] as const) {
      it(`(${store}) other calls stop at half the window, the monitor's prices at three quarters, orders fill the rest${store === 'redis' ? '; two processes share one count' : ''}`, async () => {
        const redis = store === 'redis' ? new Redis(TEST_REDIS_URL) : undefined;
        try {
          const prefix = `smtest:${randomUUID().slice(0, 8)}:`;
          const settings = { ...DEFAULT_BUDGET_SETTINGS, perVenue: { binance: 100 } };
          const one = createVenueBudget({ redis, prefix, settings });
          const two = redis ? createVenueBudget({ redis, prefix, settings }) : one;
          const v = venue(one);
          await freshMinute(5_000);
          assert.equal(await spend(one, v, 'other', 10), 5);
          assert.equal(await spend(two, v, 'other', 1), 0, 'the other process sees the same count');
          assert.equal(await spend(two, v, 'prices', 5), 5);
          assert.equal(await spend(one, v, 'order', 1), 25);
          await assert.rejects(one.acquire(v, 1, 'order', 0), (err: ExchangeBusy) => err.retryAfterMs > 0 && err.retryAfterMs <= 60_000);
        } finally { redis?.disconnect(); }
      });
    }

    it("a 429 holds back non-order calls only; a 418 ban holds back orders too", async () => {
      const b = createVenueBudget({ prefix: '' });
      const v = venue(b);
      await b.pause(v, 'other', 5_000);
      await assert.rejects(b.acquire(v, 1, 'other', 100), ExchangeBusy);
      await assert.rejects(b.acquire(v, 1, 'prices', 100), ExchangeBusy);
      await b.acquire(v, 1, 'order', 0);
      await b.pause(v, 'all', 5_000);
      await assert.rejects(b.acquire(v, 1, 'order', 100), ExchangeBusy);
    });

    it('reads the venue: 429 → others wait Retry-After, 418 and Bybit 403 "too frequent" → everyone waits', () => {
      assert.deepEqual(rateLimitPause(429, { 'Retry-After': '7' }, '{"code":-1003}'), { scope: 'other', ms: 7000 });
      assert.deepEqual(rateLimitPause(418, { 'retry-after': '120' }, ''), { scope: 'all', ms: 120_000 });
      assert.equal(rateLimitPause(403, {}, '<html>access too frequent</html>')?.scope, 'all');
      assert.equal(rateLimitPause(400, {}, '{"code":-2010}'), undefined);
      assert.equal(rateLimitPause(200, {}, '{}'), undefined);
    });

    it("charges Binance's documented weight for the monitor's batched ticker (2 for up to 20 symbols), not 80", () => {
      const b = createVenueBudget({ prefix: '' });
      const ex = attachBudget(new ccxt.binance(), { budget: b, exchangeId: 'binance', traffic: 'prices' }) as unknown as {
        calculateRateLimiterCost: (api: string, m: string, p: string, params: object, c: object) => number;
      };
      const cfg = { cost: 0.4, noSymbol: 16 };
      assert.equal(ex.calculateRateLimiterCost('public', 'GET', 'ticker/24hr', { symbols: JSON.stringify(['BTCUSDT', 'ETHUSDT']) }, cfg), 0.4);
      assert.equal(ex.calculateRateLimiterCost('public', 'GET', 'ticker/24hr', { symbols: JSON.stringify(Array.from({ length: 50 }, (_, i) => `X${i}`)) }, cfg), 8);
      assert.equal(ex.calculateRateLimiterCost('public', 'GET', 'ticker/24hr', {}, cfg), 16);
      assert.equal(venueRef(b, 'binance', 50, 'http://127.0.0.1:9001').key, 'binance@127.0.0.1:9001');
    });
  });
});
