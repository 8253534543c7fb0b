/**
 * SubscriptionExecutor against the fake Binance (real ccxt over HTTP) and real PostgreSQL:
 * matching, sizing/precision, minimums, invalid keys, unclear failures (lookup by clientOrderId
 * before any resend), partial failure, protective orders and CLOSE, risk rules, REST, paper mode.
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { useLiveExecutor } from './support/live-executor.js';
import { waitFor } from './support/wait.js';

describe('SubscriptionExecutor (live mode, fake Binance, real ccxt)', function () {
  this.timeout(30_000);
  const fake = new FakeBinance({ duplicateClientIdMode: 'strict' });
  const live = useLiveExecutor({ binance: fake });
  const { subscribe, signal, finalRow } = live;
  let app: App;

  before(() => { app = live.app(); });
  beforeEach(() => { fake.clearFaults(); fake.setPrice('ETH/USDT', 3000); fake.setPrice('BTC/USDT', 60_000); });

  const rowsOf = (signalId: string) => app.db.prisma.executionLog.findMany({ where: { signalId } });

  it('places one order for each ACTIVE keyed subscription matching the pair, and none for the others', async () => {
    const { strategyId } = await seedStrategy(app);
    const all = await subscribe(strategyId);
    const eth = await subscribe(strategyId, { allPairs: false, pairs: ['ETH/USDT'] });
    const sol = await subscribe(strategyId, { allPairs: false, pairs: ['SOL/USDT'] });
    const paused = await subscribe(strategyId);
    await client(app).patch(`/api/subscriptions/${paused.subId}`, { status: 'PAUSED' }, paused.user.token);
    const noKeys = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 } }, (await registerUser(app)).token);
    assert.equal(noKeys.status, 201);
    const s = await signal(strategyId, {});
    for (const sub of [all, eth]) {
      const row = await finalRow(sub.subId, s.id);
      assert.equal(row.status, 'SUCCESS', row.error ?? '');
      const orders = fake.orders(sub.apiKey);
      assert.equal(orders.length, 1);
      assert.equal(orders[0]!.clientOrderId, row.clientOrderId);
      assert.match(row.clientOrderId, /^[a-zA-Z0-9_-]{1,36}$/);
      assert.equal(orders[0]!.side, 'BUY');
    }
    assert.deepEqual((await rowsOf(s.id)).map((r) => r.subscriptionId).sort(), [all.subId, eth.subId].sort());
    assert.equal(fake.orders(sol.apiKey).length + fake.orders(paused.apiKey).length, 0);
  });

  it('sizes by fixed quote, by percent of free balance and caps by maxTradePercent, rounded to the lot step', async () => {
    const { strategyId } = await seedStrategy(app);
    const quote = await subscribe(strategyId, { sizing: { mode: 'quote', amount: 100 } });
    const pct = await subscribe(strategyId, { sizing: { mode: 'percent', percent: 25 } }, { balances: { USDT: 1000 } });
    const capped = await subscribe(strategyId, { sizing: { mode: 'quote', amount: 500 }, risk: { maxTradePercent: 10 } }, { balances: { USDT: 1000 } });
    const s = await signal(strategyId, {});
    for (const sub of [quote, pct, capped]) assert.equal((await finalRow(sub.subId, s.id)).status, 'SUCCESS');
    assert.equal(Number(fake.orders(quote.apiKey)[0]!.origQty), 0.0333); // 100 / 3000 = 0.03333… floored to step 0.0001
    assert.equal(Number(fake.orders(pct.apiKey)[0]!.origQty), 0.0833); // 25 % of 1000 = 250 / 3000
    assert.equal(Number(fake.orders(capped.apiKey)[0]!.origQty), 0.0333); // 500 capped to 10 % of 1000
    const row = await finalRow(quote.subId, s.id);
    assert.equal(Number(row.amount), 0.0333);
    assert.equal(Number(row.price), 3000);
  });

  it('refuses an order below the minimum notional as SKIPPED without calling the exchange', async () => {
    const { strategyId } = await seedStrategy(app);
    const tiny = await subscribe(strategyId, { sizing: { mode: 'quote', amount: 3 } });
    fake.resetCounters();
    const s = await signal(strategyId, {});
    const row = await finalRow(tiny.subId, s.id);
    assert.equal(row.status, 'SKIPPED');
    assert.match(row.error ?? '', /^BELOW_MIN_NOTIONAL/);
    assert.equal(fake.requestCount('/api/v3/order', 'POST'), 0);
  });

  it('marks a subscription whose key the exchange refuses keysInvalid, stops trying it, and still serves the others', async () => {
    const { strategyId } = await seedStrategy(app);
    const bad = await subscribe(strategyId, {}, { register: false });
    const good = await subscribe(strategyId);
    const s = await signal(strategyId, {});
    const row = await finalRow(bad.subId, s.id);
    assert.equal(row.status, 'FAILED');
    assert.match(row.error ?? '', /^KEYS_INVALID/);
    assert.equal((await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: bad.subId } })).keysInvalid, true);
    assert.equal((await finalRow(good.subId, s.id)).status, 'SUCCESS');
    fake.resetCounters();
    const close = await signal(strategyId, { action: 'CLOSE', price: 3100 });
    const next = await finalRow(bad.subId, close.id).catch(() => null);
    assert.ok(!next || next.status === 'SKIPPED', 'an invalid key is not tried again');
    assert.equal((await finalRow(good.subId, close.id)).status, 'SUCCESS');
    const listed = await client(app).get(`/api/subscriptions`, bad.user.token);
    assert.equal(listed.body.subscriptions[0].keysInvalid, true);
  });

  it('when the exchange places the order and then times out, finds it by clientOrderId and does not resend', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.injectFault({ kind: 'placeThenTimeout', how: 'hang' }, { path: '/api/v3/order', method: 'POST', apiKey: sub.apiKey, times: 1 });
    const s = await signal(strategyId, {});
    const row = await finalRow(sub.subId, s.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.ok(row.attempts >= 2);
    assert.equal(fake.ordersByClientId(row.clientOrderId, sub.apiKey).length, 1);
    assert.equal(fake.orders(sub.apiKey).length, 1);
    assert.equal(row.orderId, String(fake.orders(sub.apiKey)[0]!.orderId));
    const history = (row.legs as { history: { outcome: string }[] }).history.map((h) => h.outcome);
    assert.ok(history.includes('found by clientOrderId'), history.join(', '));
  });

  it('when the exchange answers 503 before placing, looks the order up, resends once and succeeds once', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.injectFault({ kind: 'respond', status: 503, body: 'Service Unavailable' }, { path: '/api/v3/order', method: 'POST', apiKey: sub.apiKey, times: 1 });
    const s = await signal(strategyId, {});
    const row = await finalRow(sub.subId, s.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.equal(row.attempts, 2);
    assert.equal(fake.orders(sub.apiKey).length, 1);
    const history = (row.legs as { history: { outcome: string }[] }).history.map((h) => h.outcome);
    assert.deepEqual(history, ['retry later', 'lookup: not on the exchange', 'placed']);
  });

  it('when the entry fills and the stop-loss order is rejected, records PARTIAL with the exchange answer and never repeats the entry', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.failOrderTypes(['STOP_LOSS'], undefined, 1);
    const s = await signal(strategyId, { stopLoss: 2800 });
    const row = await finalRow(sub.subId, s.id);
    assert.equal(row.status, 'PARTIAL');
    assert.match(row.error ?? '', /^PROTECT_FAILED/);
    assert.match(JSON.stringify((row.exchangeResponse as { protect: unknown }).protect), /Order type rejected by fake exchange/);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(fake.orders(sub.apiKey).length, 1);
    assert.equal(fake.orders(sub.apiKey)[0]!.type, 'MARKET');
    const pos = await app.db.prisma.position.findUnique({ where: { subscriptionId_pair: { subscriptionId: sub.subId, pair: 'ETH/USDT' } } });
    assert.equal(Number(pos?.qty), 0.0333);
  });

  it('places a stop-loss after the entry; a CLOSE after the user cancelled the subscription cancels it and sells the position', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    const open = await signal(strategyId, { stopLoss: 2800 });
    assert.equal((await finalRow(sub.subId, open.id)).status, 'SUCCESS');
    assert.deepEqual(fake.orders(sub.apiKey).map((o) => [o.type, o.side, o.status]), [['MARKET', 'BUY', 'FILLED'], ['STOP_LOSS', 'SELL', 'NEW']]);
    assert.equal((await client(app).del(`/api/subscriptions/${sub.subId}`, sub.user.token)).status, 200);
    fake.setPrice('ETH/USDT', 2900);
    const close = await signal(strategyId, { action: 'CLOSE', price: 2900 });
    const row = await finalRow(sub.subId, close.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.deepEqual(fake.orders(sub.apiKey).map((o) => [o.type, o.side, o.status]), [['MARKET', 'BUY', 'FILLED'], ['STOP_LOSS', 'SELL', 'CANCELED'], ['MARKET', 'SELL', 'FILLED']]);
    assert.equal(Number(fake.orders(sub.apiKey)[2]!.origQty), 0.0333);
    assert.ok(Math.abs(Number(row.realisedPnl) - (2900 - 3000) * 0.0333) < 1e-9);
    assert.equal(await app.db.prisma.position.count({ where: { subscriptionId: sub.subId } }), 0);
  });

  it('close-only mode and the daily-loss breaker skip new entries with a reason', async () => {
    const { strategyId } = await seedStrategy(app);
    const closeOnly = await subscribe(strategyId, { risk: { closeOnly: true } });
    const breaker = await subscribe(strategyId, { risk: { dailyLossLimit: 1 } });
    const open1 = await signal(strategyId, {});
    const skipped = await finalRow(closeOnly.subId, open1.id);
    assert.equal(skipped.status, 'SKIPPED');
    assert.match(skipped.error ?? '', /^CLOSE_ONLY/);
    assert.equal((await finalRow(breaker.subId, open1.id)).status, 'SUCCESS');
    fake.setPrice('ETH/USDT', 2900);
    const close = await signal(strategyId, { action: 'CLOSE', price: 2900 }); // loses 0.0333 × 100 = 3.33 > 1
    assert.equal((await finalRow(breaker.subId, close.id)).status, 'SUCCESS');
    const open2 = await signal(strategyId, { price: 2900 });
    const refused = await finalRow(breaker.subId, open2.id);
    assert.equal(refused.status, 'SKIPPED');
    assert.match(refused.error ?? '', /^DAILY_LOSS_LIMIT/);
    assert.equal(fake.orders(closeOnly.apiKey).length, 0);
    assert.equal(fake.orders(breaker.apiKey).length, 2);
  });

  it('serves executions to their owner only, to admins with filters, and never returns key material', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    const s = await signal(strategyId, {});
    await finalRow(sub.subId, s.id);
    const own = await client(app).get(`/api/executions?subscriptionId=${sub.subId}`, sub.user.token);
    assert.equal(own.status, 200);
    assert.equal(own.body.executions.length, 1);
    assert.equal(own.body.executions[0].status, 'SUCCESS');
    assert.ok(!JSON.stringify(own.body).includes(sub.apiKey));
    const other = await registerUser(app);
    assert.equal((await client(app).get(`/api/executions?subscriptionId=${sub.subId}`, other.token)).status, 404);
    assert.equal((await client(app).get('/api/admin/executions', other.token)).status, 403);
    await app.db.prisma.user.update({ where: { id: other.user.id }, data: { role: 'ADMIN' } });
    const login = await client(app).post('/api/auth/login', { email: other.user.email, password: 'correct horse battery' });
    const admin = await client(app).get(`/api/admin/executions?status=SUCCESS&exchange=binance&subscriptionId=${sub.subId}`, login.body.token);
    assert.equal(admin.status, 200);
    assert.equal(admin.body.executions[0].clientOrderId, own.body.executions[0].clientOrderId);
    const health = await client(app).get('/health/details');
    assert.equal(typeof health.body.checks.executor.lagSeconds, 'number');
    const metrics = await client(app).get('/metrics');
    assert.match(String(metrics.body), /executor_orders_total\{status="SUCCESS",exchange="binance",mode="live"\}/);
  });
});

describe('SubscriptionExecutor (paper mode)', function () {
  this.timeout(30_000);
  it('fills at the venue price, logs SUCCESS with paper=true and sends no order to an exchange', async () => {
    const fake = new FakeBinance();
    const origin = await fake.start();
    fake.setPrice('BTC/USDT', 64000.5);
    const app = await startTestApp({ ROLES: 'api,executor', EXCHANGE_URL_BINANCE: origin, EXECUTOR_POLL_MS: '200' });
    try {
      const { strategyId } = await seedStrategy(app);
      const user = await registerUser(app);
      const r = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey: 'paperkey-123456', apiSecret: 'papersecret-123456' }, user.token);
      const { signal } = await app.coordinator.accept({ strategyId, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 64000.5 }, 'api');
      const row = await waitFor('paper row', async () => {
        const x = await app.db.prisma.executionLog.findFirst({ where: { signalId: signal.id, subscriptionId: r.body.id } });
        return x && x.status !== 'PENDING' ? x : null;
      });
      assert.equal(row.status, 'SUCCESS');
      assert.equal(row.paper, true);
      assert.equal(Number(row.price), 64000.5);
      assert.ok(Math.abs(Number(row.amount) - 100 / 64000.5) < 1e-8);
      assert.equal((row.exchangeResponse as { priceSource?: string }).priceSource, 'venue');
      assert.equal(row.error, null);
      // Only public market data was asked for: no order, no signed call.
      assert.deepEqual(Object.keys(fake.stats().requests).filter((k) => !/^GET \/api\/v3\/(exchangeInfo|ticker\/24hr)$/.test(k)), []);
    } finally {
      await app.stop();
      await fake.stop();
    }
  });
});
