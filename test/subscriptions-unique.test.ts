/**
 * One live subscription per user and strategy (issue 16, item 4), and the subscription's
 * maxSlippagePercent: real PostgreSQL (the partial unique index decides, not only the route) and the
 * executor placing orders on the fake Binance through real ccxt.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { useLiveExecutor } from './support/live-executor.js';
import { waitFor } from './support/wait.js';

describe('one live subscription per user and strategy', function () {
  this.timeout(30_000);
  const fake = new FakeBinance({ duplicateClientIdMode: 'strict' });
  const live = useLiveExecutor({ binance: fake });
  let app: App;

  before(() => { app = live.app(); });

  const body = (strategyId: string, extra: Record<string, unknown> = {}) => ({ strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, ...extra });

  it('a second live subscription of the same user to the same strategy is 409 ALREADY_SUBSCRIBED, PAUSED counts as live, and after cancelling the user can subscribe again', async () => {
    const { strategyId } = await seedStrategy(app);
    const other = await seedStrategy(app);
    const user = await registerUser(app);
    const api = client(app);
    const first = await api.post('/api/subscriptions', body(strategyId), user.token);
    assert.equal(first.status, 201);
    const second = await api.post('/api/subscriptions', body(strategyId, { sizing: { mode: 'quote', amount: 50 } }), user.token);
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'ALREADY_SUBSCRIBED');
    assert.equal((await api.patch(`/api/subscriptions/${first.body.id}`, { status: 'PAUSED' }, user.token)).status, 200);
    const whilePaused = await api.post('/api/subscriptions', body(strategyId), user.token);
    assert.equal(whilePaused.status, 409);
    assert.equal(whilePaused.body.error.code, 'ALREADY_SUBSCRIBED');
    // Another strategy, or another user on this one, is not affected.
    assert.equal((await api.post('/api/subscriptions', body(other.strategyId), user.token)).status, 201);
    assert.equal((await api.post('/api/subscriptions', body(strategyId), (await registerUser(app)).token)).status, 201);
    assert.equal((await api.del(`/api/subscriptions/${first.body.id}`, user.token)).status, 200);
    const again = await api.post('/api/subscriptions', body(strategyId), user.token);
    assert.equal(again.status, 201);
    const live = (await api.get('/api/subscriptions', user.token)).body.subscriptions.filter((s: { strategyId: string; status: string }) => s.strategyId === strategyId && s.status !== 'CANCELLED');
    assert.deepEqual(live.map((s: { id: string }) => s.id), [again.body.id]);
  });

  it('two concurrent POSTs give exactly one 201 and one 409, and one signal then places exactly one order for that user', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const apiKey = `key-${randomUUID()}`;
    const apiSecret = `secret-${randomUUID()}`;
    fake.addAccount(apiKey, apiSecret, { USDT: 10_000 });
    const api = client(app);
    const answers = await Promise.all(Array.from({ length: 2 }, () => api.post('/api/subscriptions', body(strategyId, { apiKey, apiSecret }), user.token)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
    assert.equal(answers.find((a) => a.status === 409)!.body.error.code, 'ALREADY_SUBSCRIBED');
    assert.equal(await app.db.prisma.subscription.count({ where: { userId: user.user.id, strategyId } }), 1);
    const { signal } = await app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, 'api');
    const rows = await waitFor('the execution', async () => {
      const r = await app.db.prisma.executionLog.findMany({ where: { signalId: signal.id } });
      return r.length && r.every((x) => x.status !== 'PENDING') ? r : null;
    });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, 'SUCCESS', rows[0]!.error ?? '');
    assert.equal(fake.orders(apiKey).length, 1);
  });

  it('the database refuses a second live subscription even when the route is bypassed', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const data = { userId: user.user.id, strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 10 } };
    await app.db.prisma.subscription.create({ data });
    await assert.rejects(app.db.prisma.subscription.create({ data: { ...data, status: 'PAUSED' } }));
    await app.db.prisma.subscription.create({ data: { ...data, status: 'CANCELLED' } });
  });

  it('maxSlippagePercent: 2 by default, set in POST and PATCH, shown in the view, and refused outside (0, 50]', async () => {
    const { strategyId } = await seedStrategy(app);
    const api = client(app);
    const a = await registerUser(app);
    const byDefault = await api.post('/api/subscriptions', body(strategyId), a.token);
    assert.equal(byDefault.status, 201);
    assert.equal(byDefault.body.maxSlippagePercent, 2);
    const patched = await api.patch(`/api/subscriptions/${byDefault.body.id}`, { maxSlippagePercent: 0.5 }, a.token);
    assert.equal(patched.status, 200);
    assert.equal(patched.body.maxSlippagePercent, 0.5);
    assert.equal((await api.get('/api/subscriptions', a.token)).body.subscriptions[0].maxSlippagePercent, 0.5);
    const b = await registerUser(app);
    for (const bad of [0, -1, 50.01, '5', true]) {
      const r = await api.post('/api/subscriptions', body(strategyId, { maxSlippagePercent: bad }), b.token);
      assert.equal(r.status, 400, `maxSlippagePercent ${JSON.stringify(bad)}`);
      assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal((await api.patch(`/api/subscriptions/${byDefault.body.id}`, { maxSlippagePercent: 51 }, a.token)).status, 400);
    const wide = await api.post('/api/subscriptions', body(strategyId, { maxSlippagePercent: 50 }), b.token);
    assert.equal(wide.status, 201);
    assert.equal((await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: wide.body.id } })).maxSlippagePercent, 50);
  });
});
