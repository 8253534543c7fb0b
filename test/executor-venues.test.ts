/**
 * The executor on every venue: real ccxt against FakeMexc (MEXC spot v3) and FakeBybit (Bybit v5 spot,
 * unified account), FakeBinance for the seed's mixed case, real PostgreSQL. Per venue: one order per
 * matching subscription, quote-sized entries, exits, bad keys, a timeout after the order was placed
 * (never doubled), test-keys; and the seed's case (three MEXC + one Binance subscription of one user).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy } from './support/app.js';
import { FakeBinance, FakeBybit, FakeMexc } from './support/fake-exchange.js';
import { historyOf, useLiveExecutor } from './support/live-executor.js';
import ccxt from 'ccxt';
import { classifyCcxtError, createVenueBudget, DEFAULT_BUDGET_SETTINGS, dialectFor } from '../src/exchange/index.js';
import { KeyChecker } from '../src/subscriptions/index.js';

type Fake = FakeMexc | FakeBybit | FakeBinance;
interface Venue { id: 'mexc' | 'bybit'; fake: FakeMexc | FakeBybit; createPath: string; balancePath: string; cidRule: RegExp }

describe('SubscriptionExecutor on MEXC and Bybit spot (real ccxt, fake venues)', function () {
  this.timeout(60_000);
  const binance = new FakeBinance({ duplicateClientIdMode: 'strict' });
  const mexc = new FakeMexc();
  const bybit = new FakeBybit();
  const venues: Venue[] = [
    // MEXC documents no client-id rule: we send at most 32 of [A-Za-z0-9_-].
    { id: 'mexc', fake: mexc, createPath: '/api/v3/order', balancePath: '/api/v3/account', cidRule: /^[A-Za-z0-9_-]{1,32}$/ },
    { id: 'bybit', fake: bybit, createPath: '/v5/order/create', balancePath: '/v5/account/wallet-balance', cidRule: /^[A-Za-z0-9_-]{1,36}$/ },
  ];
  const live = useLiveExecutor({ binance, mexc, bybit }, { EXECUTOR_LEASE_MS: '6000' });
  const { subscribe, signal, finalRow } = live;
  let app: App;

  before(() => { app = live.app(); });
  beforeEach(() => {
    mexc.lookupLagMs = 0;
    for (const f of [binance, mexc, bybit] as Fake[]) { f.clearFaults(); f.setPrice('ETH/USDT', 3000); f.setPrice('BTC/USDT', 60_000); }
  });


  for (const v of venues) {
    describe(`${v.id} spot`, () => {
      it(`one ${v.id} order per ACTIVE keyed subscription matching the pair and none for the others; the entry is quote-sized (spends at most the 100 USDT), a stop-loss is not sent (no venue stops: the CLOSE is the stop) and the CLOSE sells the position`, async () => {
        const { strategyId } = await seedStrategy(app);
        const all = await subscribe(strategyId, { exchange: v.id });
        const eth = await subscribe(strategyId, { exchange: v.id, allPairs: false, pairs: ['ETH/USDT'] });
        const sol = await subscribe(strategyId, { exchange: v.id, allPairs: false, pairs: ['SOL/USDT'] });
        const paused = await subscribe(strategyId, { exchange: v.id });
        await client(app).patch(`/api/subscriptions/${paused.subId}`, { status: 'PAUSED' }, paused.user.token);
        const s = await signal(strategyId, { stopLoss: 2900 });
        for (const sub of [all, eth]) {
          const row = await finalRow(sub.subId, s.id);
          assert.equal(row.status, 'SUCCESS', row.error ?? '');
          const orders = v.fake.orders(sub.apiKey);
          assert.equal(orders.length, 1, 'one order, no protective sell');
          assert.equal(orders[0]!.side, 'BUY');
          assert.match(orders[0]!.clientOrderId, v.cidRule);
          assert.ok(row.clientOrderId.startsWith(orders[0]!.clientOrderId), `${row.clientOrderId} ↔ ${orders[0]!.clientOrderId}`);
          assert.equal(row.orderId, String(orders[0]!.orderId));
          const spent = Number(orders[0]!.cummulativeQuoteQty);
          assert.ok(spent > 99 && spent <= 100, `spent ${spent}`);
          assert.ok(Number(v.fake.balances(sub.apiKey).USDT!.free) >= 9900);
          assert.equal(Number(row.amount), Number(orders[0]!.executedQty), 'the fill is the venue\'s (looked up after create)');
          assert.ok(historyOf(row).some((h) => h.startsWith('NO_EXCHANGE_STOPS')), historyOf(row).join(', '));
        }
        assert.equal(v.fake.orders(sol.apiKey).length + v.fake.orders(paused.apiKey).length, 0);
        const pos = await app.db.prisma.position.findUnique({ where: { subscriptionId_pair: { subscriptionId: all.subId, pair: 'ETH/USDT' } } });
        assert.ok(pos && Number(pos.qty) > 0);
        v.fake.setPrice('ETH/USDT', 3100);
        const close = await signal(strategyId, { action: 'CLOSE', price: 3100 });
        const out = await finalRow(all.subId, close.id);
        assert.equal(out.status, 'SUCCESS', out.error ?? '');
        const sells = v.fake.orders(all.apiKey).filter((o) => o.side === 'SELL');
        assert.equal(sells.length, 1);
        assert.equal(Number(sells[0]!.executedQty), Number(pos.qty));
        assert.ok(Number(out.realisedPnl) > 0);
      });

      it(`a ${v.id} key the venue refuses marks the subscription keysInvalid; the others are still served`, async () => {
        const { strategyId } = await seedStrategy(app);
        const bad = await subscribe(strategyId, { exchange: v.id }, { register: false });
        const good = await subscribe(strategyId, { exchange: v.id });
        const s = await signal(strategyId);
        const row = await finalRow(bad.subId, s.id);
        assert.equal(row.status, 'FAILED');
        assert.match(row.error ?? '', /^KEYS_INVALID/);
        assert.equal((await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: bad.subId } })).keysInvalid, true);
        assert.equal((await finalRow(good.subId, s.id)).status, 'SUCCESS');
      });

      it(`when ${v.id} places the order and then times out, the lookup by client id finds it and it is never sent twice${v.id === 'mexc' ? ' (even while MEXC still answers -2013 for the fresh order)' : ''}`, async () => {
        const { strategyId } = await seedStrategy(app);
        const sub = await subscribe(strategyId, { exchange: v.id });
        // MEXC answers "not found" for a while after a create: a single lookup would conclude "absent" and resend.
        if (v.id === 'mexc') mexc.lookupLagMs = 1200;
        v.fake.injectFault({ kind: 'placeThenTimeout', how: 'hang' }, { path: v.createPath, method: 'POST', apiKey: sub.apiKey, times: 1 });
        const s = await signal(strategyId);
        const row = await finalRow(sub.subId, s.id);
        assert.equal(row.status, 'SUCCESS', row.error ?? '');
        assert.ok(row.attempts >= 2);
        assert.equal(v.fake.orders(sub.apiKey).length, 1, 'exactly one order');
        assert.equal(row.orderId, String(v.fake.orders(sub.apiKey)[0]!.orderId));
        assert.ok(historyOf(row).includes('found by clientOrderId'), historyOf(row).join(', '));
      });

      it(`test-keys on ${v.id}: working keys show the balance; unknown keys say so and mark keysInvalid`, async () => {
        const { strategyId } = await seedStrategy(app);
        const good = await subscribe(strategyId, { exchange: v.id });
        const r = await client(app).post(`/api/subscriptions/${good.subId}/test-keys`, undefined, good.user.token);
        assert.equal(r.status, 200);
        assert.equal(r.body.ok, true, JSON.stringify(r.body));
        assert.equal(r.body.free, 10_000);
        const bad = await subscribe(strategyId, { exchange: v.id }, { register: false });
        const b = await client(app).post(`/api/subscriptions/${bad.subId}/test-keys`, undefined, bad.user.token);
        assert.equal(b.body.ok, false);
        assert.equal(b.body.code, 'EXCHANGE_AUTH', JSON.stringify(b.body));
        assert.equal((await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: bad.subId } })).keysInvalid, true);
      });

      it(`the request budget covers ${v.id}: 30 key tests against a small budget (units a minute) are held back (EXCHANGE_BUSY) before they reach the venue`, async () => {
        const budget = createVenueBudget({ prefix: '', settings: { ...DEFAULT_BUDGET_SETTINGS, perVenue: { [v.id]: v.id === 'mexc' ? 400 : 40 }, maxWaitMs: 0 } });
        const checker = new KeyChecker({ exchangeUrls: { [v.id]: v.fake.origin }, timeoutMs: 2000, recvWindowMs: 5000, budget });
        const key = `key-${randomUUID()}`;
        v.fake.addAccount(key, 'budget-secret', { USDT: 10_000 });
        v.fake.resetCounters();
        const results = [];
        for (let i = 0; i < 30; i++) results.push(await checker.check(v.id, key, 'budget-secret'));
        const busy = results.filter((r) => r.code === 'EXCHANGE_BUSY').length;
        assert.ok(results[0]!.ok, JSON.stringify(results[0]));
        assert.ok(busy > 0, 'some tests were held back');
        assert.equal(v.fake.requestCount(v.balancePath), 30 - busy, 'a held-back test sends nothing');
      });
    });
  }

  it('/api/exchanges lists binance, mexc and bybit as tested', async () => {
    const r = await client(app).get('/api/exchanges');
    const tested = (r.body.exchanges as { id: string; tested: boolean }[]).filter((e) => e.tested).map((e) => e.id).sort();
    assert.deepEqual(tested, ['binance', 'bybit', 'mexc']);
  });

  it('the seed\'s case: one user with three MEXC and one Binance spot subscription to four strategies gets exactly one order per signal on each', async () => {
    const user = await registerUser(app);
    const mexcKey = `key-${randomUUID()}`;
    const binanceKey = `key-${randomUUID()}`;
    mexc.addAccount(mexcKey, 'mexc-secret', { USDT: 10_000 });
    binance.addAccount(binanceKey, 'binance-secret', { USDT: 10_000 });
    const strategies = await Promise.all([0, 1, 2, 3].map(() => seedStrategy(app)));
    const subs = [];
    for (let i = 0; i < 4; i++) {
      const onMexc = i < 3;
      subs.push({ onMexc, ...await subscribe(strategies[i]!.strategyId, { exchange: onMexc ? 'mexc' : 'binance' }, { user, apiKey: onMexc ? mexcKey : binanceKey, apiSecret: onMexc ? 'mexc-secret' : 'binance-secret' }) });
    }
    const signals = await Promise.all(strategies.map((s) => signal(s.strategyId)));
    const rows = await Promise.all(subs.map((sub, i) => finalRow(sub.subId, signals[i]!.id)));
    for (const row of rows) assert.equal(row.status, 'SUCCESS', row.error ?? '');
    const mexcOrders = mexc.orders(mexcKey);
    assert.equal(mexcOrders.length, 3);
    assert.equal(new Set(mexcOrders.map((o) => o.clientOrderId)).size, 3);
    assert.deepEqual(mexcOrders.map((o) => o.clientOrderId).sort(), rows.slice(0, 3).map((r) => r.clientOrderId.slice(0, mexcOrders[0]!.clientOrderId.length)).sort());
    assert.equal(binance.orders(binanceKey).length, 1);
    assert.equal(binance.orders(binanceKey)[0]!.clientOrderId, rows[3]!.clientOrderId);
    // Each signal reached only its own subscription.
    for (let i = 0; i < 4; i++) assert.equal(await app.db.prisma.executionLog.count({ where: { signalId: signals[i]!.id } }), 1);
  });

  it('every venue answer is classified by its own code: MEXC 10072 bad key → auth, MEXC JSON code 500 and Bybit 10016 → unknown (look up), Bybit duplicate orderLinkId → look up (the order exists), stale timestamps → look up', () => {
    /** The ccxt error the venue's answer becomes (ccxt's own handleErrors with the production URL). */
    const ccxtError = (id: 'mexc' | 'bybit', status: number, body: object): unknown => {
      const ex = new (ccxt as unknown as Record<string, new () => { handleErrors: (...a: unknown[]) => unknown }>)[id]!();
      const url = id === 'mexc' ? 'https://api.mexc.com/api/v3/order' : 'https://api.bybit.com/v5/order/create';
      try { ex.handleErrors(status, '', url, 'POST', {}, JSON.stringify(body), body, {}, {}); } catch (err) { return err; }
      throw new Error(`${id} ${JSON.stringify(body)} raised nothing`);
    };
    const kind = (id: 'mexc' | 'bybit', status: number, body: object) => classifyCcxtError(ccxtError(id, status, body), dialectFor(id)).kind;
    const bybitBody = (retCode: number, retMsg: string) => ({ retCode, retMsg, result: {}, retExtInfo: {}, time: 1 });
    assert.equal(kind('mexc', 400, { code: 10072, msg: 'Api key info invalid' }), 'auth');
    assert.equal(kind('mexc', 400, { code: 700002, msg: 'Signature for this request is not valid.' }), 'auth');
    assert.equal(kind('mexc', 400, { code: 500, msg: 'Internal error' }), 'temporary');
    assert.equal(kind('mexc', 400, { code: 700003, msg: 'Timestamp for this request is outside of the recvWindow.' }), 'temporary');
    assert.equal(kind('mexc', 400, { code: 30004, msg: 'Insufficient position' }), 'rejected');
    assert.equal(kind('bybit', 200, bybitBody(10003, 'API key is invalid.')), 'auth');
    assert.equal(kind('bybit', 200, bybitBody(10004, 'error sign!')), 'auth');
    assert.equal(kind('bybit', 200, bybitBody(10016, 'Server error.')), 'temporary');
    assert.equal(kind('bybit', 200, bybitBody(170141, 'Duplicate clientOrderId')), 'temporary');
    assert.equal(kind('bybit', 200, bybitBody(170131, 'Insufficient balance.')), 'rejected');
  });
});
