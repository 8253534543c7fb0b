/**
 * The executor on USDT-margined perpetuals: real ccxt (binanceusdm, bybit linear) against FakeBinanceFutures and
 * FakeBybitLinear, real PostgreSQL. Per venue: long and short entries with the stop-loss and take-profit resting
 * as reduce-only conditional orders under our ids; a CLOSE cancels both and closes reduce-only with realised PnL;
 * leverage and margin mode set once per key and symbol; a hedge-mode account; the seed's partial-failure loop
 * (entry filled, stop-loss refused) cannot stack; free margin and the leverage bracket refuse before sending;
 * an entry whose answer is lost is looked up, never doubled. MEXC futures are refused at subscription.
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { clientOrderId } from '../src/execution/index.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { finalRow, futuresAppEnv, futuresSignal, futuresVenues, leaveNothingOpen, subscribeFutures } from './support/futures-kit.js';

const units = (v: bigint) => Number(v) / 1e18;

describe('SubscriptionExecutor on futures (Binance USDⓈ-M, Bybit linear; real ccxt, fake venues)', function () {
  this.timeout(60_000);
  const venues = futuresVenues();
  let app: App;

  before(async () => {
    app = await startTestApp(await futuresAppEnv(venues));
  });
  after(async () => { await leaveNothingOpen(app); await app?.stop(); await Promise.all(venues.map((v) => v.fake.stop())); });
  beforeEach(() => { for (const v of venues) { v.fake.clearFaults(); v.fake.setMarkPrice(v.eth, 3000); } });

  it('subscriptions: market futures on binance and bybit with leverage and marginMode; MEXC futures and spot leverage are 400', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const base = { strategyId, sizing: { mode: 'quote', amount: 50 }, apiKey: 'k'.repeat(16), apiSecret: 's'.repeat(16) };
    const mexc = await client(app).post('/api/subscriptions', { ...base, exchange: 'mexc', market: 'futures', leverage: 3 }, user.token);
    assert.equal(mexc.status, 400);
    assert.equal(mexc.body.error.code, 'VALIDATION_FAILED');
    assert.match(mexc.body.error.message, /futures are traded on binance and bybit only/);
    const spotLeverage = await client(app).post('/api/subscriptions', { ...base, exchange: 'binance', leverage: 3 }, user.token);
    assert.equal(spotLeverage.status, 400);
    assert.match(spotLeverage.body.error.message, /leverage.*futures subscriptions only/);
    const tooHigh = await client(app).post('/api/subscriptions', { ...base, exchange: 'bybit', market: 'futures', leverage: 126 }, user.token);
    assert.equal(tooHigh.status, 400);
    const ok = await client(app).post('/api/subscriptions', { ...base, exchange: 'bybit', market: 'futures', leverage: 10, marginMode: 'cross' }, user.token);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.market, ok.body.leverage, ok.body.marginMode], ['futures', 10, 'cross']);
    const patched = await client(app).patch(`/api/subscriptions/${ok.body.id}`, { leverage: 20, marginMode: 'isolated' }, user.token);
    assert.deepEqual([patched.body.leverage, patched.body.marginMode], [20, 'isolated']);
  });

  it('a futures close at a loss counts against the daily loss limit: the next entry is SKIPPED DAILY_LOSS_LIMIT; percent sizing takes that share of the free margin', async () => {
    const v = venues[0]!;
    const { strategyId } = await seedStrategy(app);
    const s = await subscribeFutures(app, v, strategyId, { sizing: { mode: 'percent', percent: 10 }, leverage: 10, risk: { dailyLossLimit: 5 } }, 2000);
    const open = await futuresSignal(app, strategyId, { direction: 'SHORT' });
    const opened = await finalRow(app, s.subId, open.id);
    assert.equal(opened.status, 'SUCCESS', opened.error ?? '');
    // 10 % of 2,000 free margin = 200 × 10 = 2,000 USDT notional at 3,000 → 0.666 ETH
    assert.equal(Number(opened.amount), 0.666);
    v.fake.setMarkPrice(v.eth, 3030);
    const close = await futuresSignal(app, strategyId, { action: 'CLOSE', direction: 'SHORT', price: 3030 });
    const closed = await finalRow(app, s.subId, close.id);
    assert.ok(Number(closed.realisedPnl) < -20, `a short from 3,000 to 3,030 loses about 20 USDT plus fees: ${closed.realisedPnl}`);
    const next = await futuresSignal(app, strategyId, { price: 3030 });
    const skipped = await finalRow(app, s.subId, next.id);
    assert.equal(skipped.status, 'SKIPPED');
    assert.match(skipped.error!, /^DAILY_LOSS_LIMIT: realised loss today 2\d\.\d\d reached the limit 5/);
  });

  for (const v of venues) {
    describe(`${v.id} futures`, () => {
      it('OPEN LONG buys margin × leverage with SL and TP resting reduce-only under our ids; a CLOSE cancels both and closes reduce-only with realised PnL', async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId);
        const open = await futuresSignal(app, strategyId, { stopLoss: 2900, takeProfit: 3300 });
        const row = await finalRow(app, s.subId, open.id);
        assert.equal(row.status, 'SUCCESS', row.error ?? '');
        assert.equal(row.side, 'buy');
        const acct = v.fake.futuresAccount(s.apiKey);
        const held = { ...[...acct.positions.values()].find((p) => p.qty !== 0n)! };
        // margin 100 × leverage 5 = 500 USDT at 3000 → 0.166 ETH (Binance step 0.001) / 0.16 (Bybit step 0.01)
        assert.equal(units(held.qty), v.id === 'binance' ? 0.166 : 0.16);
        assert.equal(acct.leverage.get(v.eth), 5);
        assert.equal(acct.marginMode.get(v.eth), 'ISOLATED');
        const resting = acct.conditionals.filter((c) => c.status === 'NEW');
        assert.deepEqual(resting.map((c) => c.clientId).sort(), [clientOrderId(open.id, s.subId, 'sl'), clientOrderId(open.id, s.subId, 'tp')].sort());
        assert.ok(resting.every((c) => c.reduceOnly && c.side === 'SELL' && c.qty === held.qty), 'both protect the whole long, reduce-only');
        const pos = await app.db.prisma.position.findFirstOrThrow({ where: { subscriptionId: s.subId } });
        assert.deepEqual([pos.market, pos.side, pos.leverage, pos.marginMode, Number(pos.stopLoss), Number(pos.takeProfit)], ['futures', 'long', 5, 'isolated', 2900, 3300]);
        assert.equal(pos.slClientOrderId, clientOrderId(open.id, s.subId, 'sl'));
        assert.equal(pos.tpClientOrderId, clientOrderId(open.id, s.subId, 'tp'));
        // The entry's taker fee (Bybit 0.055 %: in its order answer; Binance 0.04 %: from its trades), kept for the close.
        assert.ok(Math.abs(Number(pos.entryFee) - units(held.qty) * 3000 * (v.id === 'bybit' ? 0.00055 : 0.0004)) < 1e-6, `entry fee ${pos.entryFee}`);

        v.fake.setMarkPrice(v.eth, 3100);
        const close = await futuresSignal(app, strategyId, { action: 'CLOSE', price: 3100 });
        const closed = await finalRow(app, s.subId, close.id);
        assert.equal(closed.status, 'SUCCESS', closed.error ?? '');
        assert.equal(closed.side, 'sell');
        assert.deepEqual(acct.conditionals.filter((c) => c.status === 'NEW'), [], 'SL and TP cancelled');
        assert.ok([...acct.positions.values()].every((p) => p.qty === 0n), 'flat on the venue');
        const closeOrder = acct.orders.at(-1)!;
        assert.ok(closeOrder.reduceOnly, 'the close is reduce-only');
        // (3100 − 3000) × qty, less the venue's fees
        const gross = 100 * units(held.qty);
        assert.ok(Number(closed.realisedPnl) < gross && Number(closed.realisedPnl) > gross - 1, `realised ${closed.realisedPnl} vs gross ${gross}`);
        assert.equal(await app.db.prisma.position.count({ where: { subscriptionId: s.subId } }), 0);
      });

      it('OPEN SHORT sells with the stop-loss above and the take-profit below; TP and SL rest as reduce-only buys', async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId, { leverage: 3, marginMode: 'cross' });
        const open = await futuresSignal(app, strategyId, { direction: 'SHORT', stopLoss: 3150, takeProfit: 2700 });
        const row = await finalRow(app, s.subId, open.id);
        assert.equal(row.status, 'SUCCESS', row.error ?? '');
        assert.equal(row.side, 'sell');
        const acct = v.fake.futuresAccount(s.apiKey);
        const held = [...acct.positions.values()].find((p) => p.qty !== 0n)!;
        assert.ok(held.qty < 0n, 'short on the venue');
        const resting = acct.conditionals.filter((c) => c.status === 'NEW');
        assert.equal(resting.length, 2);
        assert.ok(resting.every((c) => c.reduceOnly && c.side === 'BUY'));
        assert.deepEqual(resting.map((c) => units(c.triggerPrice)).sort(), [2700, 3150]);
        const pos = await app.db.prisma.position.findFirstOrThrow({ where: { subscriptionId: s.subId } });
        assert.deepEqual([pos.side, pos.marginMode, pos.leverage], ['short', 'cross', 3]);
      });

      it('leverage and margin mode are set once per key and symbol: a second entry on the pair costs no settings request', async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId);
        v.fake.resetCounters();
        const first = await futuresSignal(app, strategyId);
        assert.equal((await finalRow(app, s.subId, first.id)).status, 'SUCCESS');
        const close = await futuresSignal(app, strategyId, { action: 'CLOSE' });
        assert.equal((await finalRow(app, s.subId, close.id)).status, 'SUCCESS');
        const again = await futuresSignal(app, strategyId);
        assert.equal((await finalRow(app, s.subId, again.id)).status, 'SUCCESS');
        assert.equal(v.fake.requestCount(v.leveragePath, 'POST'), 1);
        assert.equal(v.fake.requestCount(v.marginPath, 'POST'), 1);
      });

      it('a hedge-mode account is detected and traded with the venue position side (entry, SL/TP, close)', async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId);
        const acct = v.fake.futuresAccount(s.apiKey);
        acct.dualSide = true;
        const open = await futuresSignal(app, strategyId, { direction: 'SHORT', stopLoss: 3150, takeProfit: 2800 });
        const row = await finalRow(app, s.subId, open.id);
        assert.equal(row.status, 'SUCCESS', row.error ?? '');
        assert.ok(acct.positions.get(`${v.eth}:SHORT`)!.qty < 0n, 'the SHORT side holds it');
        assert.ok(acct.conditionals.filter((c) => c.status === 'NEW').every((c) => c.positionSide === 'SHORT'));
        const close = await futuresSignal(app, strategyId, { action: 'CLOSE', direction: 'SHORT' });
        assert.equal((await finalRow(app, s.subId, close.id)).status, 'SUCCESS');
        assert.equal(acct.positions.get(`${v.eth}:SHORT`)!.qty, 0n);
      });

      it("the seed's loop: entry filled, stop-loss refused → PARTIAL with the venue's answer and the position recorded; a repeat or a new OPEN never stacks", async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId, { maxSlippagePercent: 10 });
        // The mark is already under the stop: the venue refuses the stop-loss as one that would trigger at once.
        v.fake.setMarkPrice(v.eth, 2880);
        const open = await futuresSignal(app, strategyId, { stopLoss: 2900, takeProfit: 3300, idempotencyKey: `seed-${s.subId}` });
        const row = await finalRow(app, s.subId, open.id);
        assert.equal(row.status, 'PARTIAL', row.error ?? '');
        assert.match(row.error!, /^PROTECT_FAILED: entry filled .*stop-loss order failed: /);
        assert.match(row.error!, v.id === 'binance' ? /-2021/ : /110093/);
        const acct = v.fake.futuresAccount(s.apiKey);
        assert.deepEqual(acct.conditionals.filter((c) => c.status === 'NEW').map((c) => c.clientId), [clientOrderId(open.id, s.subId, 'tp')], 'the take-profit still rests');
        const pos = await app.db.prisma.position.findFirstOrThrow({ where: { subscriptionId: s.subId } });
        assert.equal(pos.slClientOrderId, null);
        const entries = () => acct.orders.filter((o) => !o.reduceOnly).length;
        assert.equal(entries(), 1);
        const repeat = await futuresSignal(app, strategyId, { stopLoss: 2900, takeProfit: 3300, idempotencyKey: `seed-${s.subId}` });
        assert.equal(repeat.id, open.id, 'the repeat is the same signal');
        // The strategy's CLOSE misses this subscriber (its key was refused meanwhile): the position stays held.
        await app.db.prisma.subscription.update({ where: { id: s.subId }, data: { keysInvalid: true } });
        const close = await futuresSignal(app, strategyId, { action: 'CLOSE', price: 2880 });
        assert.match((await finalRow(app, s.subId, close.id)).error!, /^KEYS_INVALID: /);
        await app.db.prisma.subscription.update({ where: { id: s.subId }, data: { keysInvalid: false } });
        const next = await futuresSignal(app, strategyId, { price: 2880, stopLoss: 2800 });
        const skipped = await finalRow(app, s.subId, next.id);
        assert.equal(skipped.status, 'SKIPPED');
        assert.match(skipped.error!, /^POSITION_ALREADY_OPEN: /);
        assert.equal(entries(), 1, 'one entry on the venue, never 2× or 3× the margin');
        assert.equal(await app.db.prisma.executionLog.count({ where: { subscriptionId: s.subId } }), 3);
        assert.equal(await app.db.prisma.position.count({ where: { subscriptionId: s.subId } }), 1);
      });

      it('an entry whose initial margin exceeds the free margin is SKIPPED before anything is sent; so is leverage above the bracket', async () => {
        const { strategyId } = await seedStrategy(app);
        const poor = await subscribeFutures(app, v, strategyId, {}, 60);
        const greedy = await subscribeFutures(app, v, strategyId, { leverage: 125 });
        v.fake.resetCounters();
        const open = await futuresSignal(app, strategyId, { stopLoss: 2900 });
        const a = await finalRow(app, poor.subId, open.id);
        assert.equal(a.status, 'SKIPPED');
        assert.match(a.error!, /^INSUFFICIENT_MARGIN: initial margin (99\.60|96\.00) USDT .* exceeds the free margin 60\.00/);
        const b = await finalRow(app, greedy.subId, open.id);
        assert.equal(b.status, 'SKIPPED');
        assert.match(b.error!, /^LEVERAGE_ABOVE_BRACKET: leverage 125x is above the 100x/);
        assert.equal(v.fake.requestCount(v.entryPath, 'POST'), 0, 'no order sent');
        assert.equal(v.fake.requestCount(v.leveragePath, 'POST'), 0, 'no leverage set');
      });

      it('an entry whose answer is lost is looked up by its client id on the retry, never sent twice', async () => {
        const { strategyId } = await seedStrategy(app);
        const s = await subscribeFutures(app, v, strategyId);
        v.fake.injectFault({ kind: 'placeThenTimeout' }, { path: v.entryPath, method: 'POST', apiKey: s.apiKey, times: 1 });
        const open = await futuresSignal(app, strategyId, { direction: 'SHORT', stopLoss: 3200 });
        const row = await finalRow(app, s.subId, open.id, 30_000);
        assert.equal(row.status, 'SUCCESS', row.error ?? '');
        const acct = v.fake.futuresAccount(s.apiKey);
        assert.equal(acct.orders.filter((o) => !o.reduceOnly).length, 1, 'one entry');
        assert.equal(acct.conditionals.filter((c) => c.status === 'NEW').length, 1, 'one stop');
        assert.ok(((row.legs as { history?: { outcome: string }[] }).history ?? []).some((h) => h.outcome === 'found by clientOrderId'));
      });
    });
  }
});

describe('SubscriptionExecutor on futures, paper mode (mark prices from the fake, no orders)', function () {
  this.timeout(60_000);
  const venues = futuresVenues();
  let app: App;

  before(async () => {
    app = await startTestApp({ ...(await futuresAppEnv(venues)), TRADING_MODE: 'paper' });
  });
  after(async () => { await leaveNothingOpen(app); await app?.stop(); await Promise.all(venues.map((v) => v.fake.stop())); });

  it('a paper SHORT fills at the venue mark price with leverage, keeps its SL/TP levels, and its CLOSE books the short PnL; nothing reaches the venue', async () => {
    const v = venues[1]!;
    v.fake.setMarkPrice(v.eth, 3000);
    const { strategyId } = await seedStrategy(app);
    const s = await subscribeFutures(app, v, strategyId, { leverage: 5 });
    v.fake.resetCounters();
    const open = await futuresSignal(app, strategyId, { direction: 'SHORT', stopLoss: 3150, takeProfit: 2700 });
    const row = await finalRow(app, s.subId, open.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.equal(row.paper, true);
    assert.equal(row.side, 'sell');
    const pos = await app.db.prisma.position.findFirstOrThrow({ where: { subscriptionId: s.subId } });
    const qty = Number(pos.qty);
    assert.ok(Math.abs(qty - (100 * 5) / 3000) < 1e-7, `margin 100 × 5 at 3000: ${qty}`);
    assert.deepEqual([pos.market, pos.side, pos.paper, Number(pos.stopLoss), Number(pos.takeProfit)], ['futures', 'short', true, 3150, 2700]);
    v.fake.setMarkPrice(v.eth, 2900);
    const close = await futuresSignal(app, strategyId, { action: 'CLOSE', direction: 'SHORT', price: 2900 });
    const closed = await finalRow(app, s.subId, close.id);
    assert.equal(closed.status, 'SUCCESS', closed.error ?? '');
    assert.equal(closed.side, 'buy');
    assert.ok(Math.abs(Number(closed.realisedPnl) - 100 * qty) < 1e-6, `short from 3000 to 2900: ${closed.realisedPnl}`);
    assert.equal(v.fake.requestCount('/v5/order/create', 'POST'), 0, 'no order sent in paper mode');
    assert.equal(await app.db.prisma.position.count({ where: { subscriptionId: s.subId } }), 0);
  });
});
