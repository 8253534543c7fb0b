import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp, uniqueEmail } from './support/app.js';

describe('accounts, strategies and subscriptions (REST)', () => {
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  it('registers (201, token), refuses a taken email (409) and logs in; a wrong password is 401', async () => {
    const email = uniqueEmail();
    const r = await api.post('/api/auth/register', { email, password: 'longenough1' });
    assert.equal(r.status, 201);
    assert.equal(r.body.user.role, 'USER');
    assert.ok(r.body.token);
    assert.ok(!('passwordHash' in r.body.user));
    assert.equal((await api.post('/api/auth/register', { email, password: 'longenough1' })).status, 409);
    assert.equal((await api.post('/api/auth/login', { email, password: 'longenough1' })).status, 200);
    const wrong = await api.post('/api/auth/login', { email, password: 'wrong-password' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'INVALID_CREDENTIALS');
  });

  it('refuses registration as ADMIN and bad bodies with 400 naming the field', async () => {
    const admin = await api.post('/api/auth/register', { email: uniqueEmail(), password: 'longenough1', role: 'ADMIN' });
    assert.equal(admin.status, 400);
    const short = await api.post('/api/auth/register', { email: uniqueEmail(), password: 'short' });
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /^password:/);
  });

  it('lets only authors create strategies, shows the webhook secret once, and lists it publicly with stats', async () => {
    const user = await registerUser(app, 'USER');
    assert.equal((await api.post('/api/strategies', { name: 'x' }, user.token)).status, 403);
    const { strategyId, secret } = await seedStrategy(app, { pairs: ['btc/usdt'] });
    assert.match(secret, /^whsec_/);
    const detail = await api.get(`/api/strategies/${strategyId}`);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.pairs, ['BTC/USDT']);
    assert.ok(!JSON.stringify(detail.body).includes(secret));
    assert.equal(detail.body.stats.trades, 0);
    const list = await api.get('/api/strategies');
    assert.ok(list.body.strategies.some((s: { id: string }) => s.id === strategyId));
    assert.equal((await api.get('/api/strategies/not-a-uuid')).status, 404);
  });

  describe('subscriptions', () => {
    const body = (strategyId: string) => ({ strategyId, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 50 }, apiKey: 'AKIAabcdefghijklwxyz', apiSecret: 'secret-value-1234567890' });

    it('stores keys write-only: answers apiKeyMasked, never the key or the secret, and encrypts them at rest', async () => {
      const { strategyId } = await seedStrategy(app);
      const user = await registerUser(app);
      const r = await api.post('/api/subscriptions', body(strategyId), user.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.apiKeyMasked, 'AKIA…wxyz');
      const text = JSON.stringify(r.body) + JSON.stringify((await api.get('/api/subscriptions', user.token)).body);
      assert.ok(!text.includes('AKIAabcdefghijklwxyz') && !text.includes('secret-value'), 'no key material in responses');
      const row = await app.db.prisma.subscription.findUnique({ where: { id: r.body.id } });
      assert.ok(row!.apiKeyEnc!.startsWith('v1:') && !row!.apiKeyEnc!.includes('AKIA'));
      assert.equal(app.keyring.decrypt(row!.apiSecretEnc!), 'secret-value-1234567890');
    });

    it("never shows or changes another user's subscription (404)", async () => {
      const { strategyId } = await seedStrategy(app);
      const owner = await registerUser(app);
      const other = await registerUser(app);
      const sub = await api.post('/api/subscriptions', body(strategyId), owner.token);
      assert.equal((await api.patch(`/api/subscriptions/${sub.body.id}`, { status: 'PAUSED' }, other.token)).status, 404);
      assert.equal((await api.del(`/api/subscriptions/${sub.body.id}`, other.token)).status, 404);
      const list = await api.get('/api/subscriptions', other.token);
      assert.ok(!list.body.subscriptions.some((s: { id: string }) => s.id === sub.body.id));
      assert.equal((await app.db.prisma.subscription.findUnique({ where: { id: sub.body.id } }))!.status, 'ACTIVE');
    });

    it('pauses, resumes, edits pairs and cancels; validation errors are 400 with the field', async () => {
      const { strategyId } = await seedStrategy(app);
      const user = await registerUser(app);
      const sub = await api.post('/api/subscriptions', body(strategyId), user.token);
      const paused = await api.patch(`/api/subscriptions/${sub.body.id}`, { status: 'PAUSED', allPairs: false, pairs: ['eth/usdt'] }, user.token);
      assert.equal(paused.status, 200);
      assert.deepEqual([paused.body.status, paused.body.allPairs, paused.body.pairs], ['PAUSED', false, ['ETH/USDT']]);
      const cancelled = await api.del(`/api/subscriptions/${sub.body.id}`, user.token);
      assert.equal(cancelled.body.status, 'CANCELLED');
      assert.equal((await api.patch(`/api/subscriptions/${sub.body.id}`, { status: 'ACTIVE' }, user.token)).status, 409);
      const bad = await api.post('/api/subscriptions', { ...body(strategyId), sizing: { mode: 'quote', amount: -1 } }, user.token);
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /^sizing\.amount/);
      const lone = await api.post('/api/subscriptions', { ...body(strategyId), apiSecret: undefined }, user.token);
      assert.equal(lone.status, 400);
      const exch = await api.post('/api/subscriptions', { ...body(strategyId), exchange: 'mtgox' }, user.token);
      assert.equal(exch.status, 400);
    });
  });

  it('answers unknown routes with 404 in the error shape, and /health, /health/details and /metrics (from loopback, an operator network)', async () => {
    const r = await api.get('/api/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
    const h = await api.get('/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal((await api.get('/health/details')).body.checks.db.ok, true);
    const m = await fetch(app.url + '/metrics').then((x) => x.text());
    assert.match(m, /signals_accepted_total/);
    assert.match(m, /signal_ingest_duration_seconds/);
  });
});
