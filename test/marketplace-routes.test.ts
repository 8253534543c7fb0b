/**
 * The marketplace routes beyond the core REST: /api/me, /api/exchanges, test keys against the fake
 * Binance (real ccxt fetchBalance), per-subscription execution summary, admin execution stats, track
 * record fields, CORS and security headers. Each route: happy path, validation, wrong role, another
 * user's resource.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';
import { FakeBinance } from './support/fake-exchange.js';

describe('marketplace routes: me, exchanges, test keys, execution summaries, admin stats, CORS', function () {
  this.timeout(30_000);
  const fake = new FakeBinance();
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp({ EXCHANGE_URL_BINANCE: await fake.start(), EXCHANGE_TIMEOUT_MS: '3000' }); api = client(app); });
  after(async () => { await app?.stop(); await fake.stop(); });

  async function adminToken() {
    const u = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: u.user.id }, data: { role: 'ADMIN' } });
    return app.tokens.sign({ id: u.user.id, role: 'ADMIN' });
  }

  async function subscription(strategyId: string, keys?: { apiKey: string; apiSecret: string }) {
    const user = await registerUser(app);
    const r = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 50 }, ...keys }, user.token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { user, subId: r.body.id as string };
  }

  /** An ExecutionLog row as the executor writes it. */
  async function execution(userId: string, subscriptionId: string, signalId: string, row: Record<string, unknown>) {
    return app.db.prisma.executionLog.create({ data: { userId, subscriptionId, signalId, exchange: 'binance', clientOrderId: `t-${randomUUID()}`, pair: 'ETH/USDT', ...row } });
  }

  it('GET /api/me answers the user and the strategies they author; without a token 401', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const r = await api.get('/api/me', author.token);
    assert.equal(r.status, 200);
    assert.equal(r.body.user.email, author.user.email);
    assert.deepEqual(r.body.strategies.map((s: { id: string }) => s.id), [strategyId]);
    assert.ok(!('passwordHash' in r.body.user));
    assert.equal((await api.get('/api/me')).body.error.code, 'UNAUTHORIZED');
    assert.equal((await api.get('/api/me', 'not-a-token')).status, 401);
  });

  it('GET /api/exchanges lists binance, mexc and bybit as tested and the others as untested', async () => {
    const r = await api.get('/api/exchanges');
    const tested = r.body.exchanges.filter((x: { tested: boolean }) => x.tested).map((x: { id: string }) => x.id);
    assert.deepEqual(tested.sort(), ['binance', 'bybit', 'mexc']);
    assert.ok(r.body.exchanges.some((x: { tested: boolean }) => !x.tested), 'untested exchanges are listed, not selectable');
  });

  describe('POST /api/subscriptions/:id/test-keys', () => {
    it('with keys the exchange knows, says they work and shows the free balance', async () => {
      const { strategyId } = await seedStrategy(app);
      const keys = { apiKey: `key-${randomUUID()}`, apiSecret: `secret-${randomUUID()}` };
      fake.addAccount(keys.apiKey, keys.apiSecret, { USDT: 1234 });
      const { user, subId } = await subscription(strategyId, keys);
      const r = await api.post(`/api/subscriptions/${subId}/test-keys`, undefined, user.token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.ok, true);
      assert.equal(r.body.free, 1234);
      assert.match(r.body.message, /keys work/);
      assert.ok(!JSON.stringify(r.body).includes(keys.apiKey));
    });

    it('with keys the exchange refuses, says plainly they do not work and marks the subscription keysInvalid', async () => {
      const { strategyId } = await seedStrategy(app);
      const { user, subId } = await subscription(strategyId, { apiKey: `unknown-${randomUUID()}`, apiSecret: `secret-${randomUUID()}` });
      const r = await api.post(`/api/subscriptions/${subId}/test-keys`, undefined, user.token);
      assert.equal(r.body.ok, false);
      assert.equal(r.body.code, 'EXCHANGE_AUTH');
      assert.match(r.body.message, /do NOT work/);
      const list = await api.get('/api/subscriptions', user.token);
      assert.equal(list.body.subscriptions[0].keysInvalid, true);
    });

    it("is 404 for another user's subscription or a bad id, 409 without keys, 401 without a token", async () => {
      const { strategyId } = await seedStrategy(app);
      const { subId } = await subscription(strategyId, { apiKey: `k-${randomUUID()}`, apiSecret: `s-${randomUUID()}` });
      const other = await registerUser(app);
      const foreign = await api.post(`/api/subscriptions/${subId}/test-keys`, undefined, other.token);
      assert.equal(foreign.status, 404);
      assert.ok(!('ok' in foreign.body));
      assert.equal((await api.post('/api/subscriptions/nope/test-keys', undefined, other.token)).status, 404);
      const bare = await subscription(strategyId);
      const noKeys = await api.post(`/api/subscriptions/${bare.subId}/test-keys`, undefined, bare.user.token);
      assert.equal(noKeys.status, 409);
      assert.equal(noKeys.body.error.code, 'NO_KEYS');
      assert.equal((await api.post(`/api/subscriptions/${subId}/test-keys`)).status, 401);
    });
  });

  it("GET /api/me/execution-summary counts each own subscription's executions and sums realised PnL; never another user's", async () => {
    const { strategyId } = await seedStrategy(app);
    const a = await subscription(strategyId);
    const b = await subscription(strategyId);
    const pair = uniquePair();
    const open = (await app.coordinator.accept({ strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100 }, 'api')).signal;
    const close = (await app.coordinator.accept({ strategyId, pair, action: 'CLOSE', price: 110 }, 'api')).signal;
    await execution(a.user.user.id, a.subId, open.id, { status: 'SUCCESS', orderId: '1' });
    await execution(a.user.user.id, a.subId, close.id, { status: 'SUCCESS', orderId: '2', realisedPnl: 5.25 });
    await execution(b.user.user.id, b.subId, open.id, { status: 'FAILED', error: 'Account has insufficient balance' });
    const r = await api.get('/api/me/execution-summary', a.user.token);
    assert.equal(r.status, 200);
    assert.equal(r.body.subscriptions.length, 1);
    assert.deepEqual(r.body.subscriptions[0].counts, { SUCCESS: 2 });
    assert.equal(r.body.subscriptions[0].realisedPnl, 5.25);
    const rb = await api.get('/api/me/execution-summary', b.user.token);
    assert.deepEqual(rb.body.subscriptions.map((s: { subscriptionId: string; counts: object }) => [s.subscriptionId, s.counts]), [[b.subId, { FAILED: 1 }]]);
    assert.equal((await api.get('/api/me/execution-summary')).status, 401);
  });

  it('GET /api/admin/execution-stats counts failures per exchange with the last errors, filters by status and exchange; USER is 403', async () => {
    const { strategyId } = await seedStrategy(app);
    const a = await subscription(strategyId);
    const sig = (await app.coordinator.accept({ strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 100 }, 'api')).signal;
    const marker = `insufficient balance ${randomUUID()}`;
    await execution(a.user.user.id, a.subId, sig.id, { status: 'FAILED', error: marker, exchange: 'fakeex' });
    const admin = await adminToken();
    const r = await api.get('/api/admin/execution-stats?exchange=fakeex', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fakeex = r.body.exchanges.find((x: { exchange: string }) => x.exchange === 'fakeex');
    assert.ok(fakeex.failed >= 1 && fakeex.counts.FAILED === fakeex.failed);
    assert.ok(r.body.exchanges.every((x: { exchange: string }) => x.exchange === 'fakeex'));
    const err = r.body.lastErrors.find((e: { error: string }) => e.error === marker);
    assert.equal(err.userEmail, a.user.user.email);
    const success = await api.get('/api/admin/execution-stats?status=SUCCESS&exchange=fakeex', admin);
    assert.deepEqual(success.body.exchanges, []);
    assert.equal((await api.get('/api/admin/execution-stats?status=BROKEN', admin)).status, 400);
    assert.equal((await api.get('/api/admin/execution-stats', a.user.token)).status, 403);
    assert.equal((await api.get('/api/admin/execution-stats')).status, 401);
  });

  it('strategy detail carries the live-results label, first signal date, equity curve and Sharpe/Sortino', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const market = new Map<string, number>();
    for (const [action, price] of [['OPEN', 100], ['CLOSE', 110], ['OPEN', 110], ['CLOSE', 99]] as const) {
      const r = await api.post('/api/signals', { strategyId, pair, action, direction: 'LONG', price }, author.token);
      assert.equal(r.status, 201);
      market.set(r.body.id, price);
    }
    await setMarketPrices(app, strategyId, market); // as the coordinator stores them when its price feed has the pair
    const r = await api.get(`/api/strategies/${strategyId}`);
    assert.match(r.body.basis, /^Live results from published signals/);
    assert.ok(Date.parse(r.body.firstSignalAt) <= Date.now());
    assert.deepEqual(r.body.equityCurve.map((p: { equity: number }) => p.equity), [110, 99]);
    assert.equal(r.body.stats.trades, 2);
    assert.equal(r.body.stats.winRate, 50);
    assert.equal(typeof r.body.stats.sharpe, 'number');
    assert.equal(typeof r.body.stats.sortino, 'number');
  });

  it("refuses rotating another author's webhook secret: another AUTHOR and a USER both get 403", async () => {
    const { strategyId } = await seedStrategy(app);
    const other = await registerUser(app, 'AUTHOR');
    assert.equal((await api.post(`/api/strategies/${strategyId}/webhook-secret`, undefined, other.token)).status, 403);
    const user = await registerUser(app);
    assert.equal((await api.post(`/api/strategies/${strategyId}/webhook-secret`, undefined, user.token)).status, 403);
  });

  it('lets any origin read public strategy data (CORS *) but sends no CORS headers for authenticated routes', async () => {
    const origin = { origin: 'https://elsewhere.example' };
    const pub = await fetch(`${app.url}/api/strategies`, { headers: origin });
    assert.equal(pub.headers.get('access-control-allow-origin'), '*');
    const pre = await fetch(`${app.url}/api/strategies`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'GET' } });
    assert.equal(pre.status, 204);
    const prePost = await fetch(`${app.url}/api/subscriptions`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } });
    assert.equal(prePost.headers.get('access-control-allow-origin'), null);
    const subs = await fetch(`${app.url}/api/subscriptions`, { headers: origin });
    assert.equal(subs.headers.get('access-control-allow-origin'), null);
  });

  it('serves the site pages with a CSP that allows scripts only from our origin', async () => {
    for (const p of ['/', '/login', '/register', '/subscriptions', '/executions', '/admin', `/strategies/${randomUUID()}`]) {
      const res = await fetch(app.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'(;|$)/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.doesNotMatch(await res.text(), /<script>(?!<\/script>)/, 'no inline scripts');
    }
  });
});
