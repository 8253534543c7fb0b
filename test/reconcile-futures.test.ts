/**
 * The futures reconciliation (src/execution/reconcile*.ts) against both futures fakes through the real ccxt
 * (binanceusdm, bybit linear) and real PostgreSQL: positions the exchange closed by itself (take profit, stop
 * loss, liquidation), a close or a partial close in the user's account, differences nothing explains
 * (RECONCILE_MISMATCH), exactly-once records with two pollers and after a restart, and the request budget.
 * Positions are opened on the fake as the executor leaves them (entry + reduce-only SL/TP under our ids).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { createVenueBudget, ExchangeBusy } from '../src/exchange/index.js';
import type { FuturesReconciler } from '../src/execution/index.js';
import { createLogger } from '../src/lib/logger.js';
import { Deriver } from '../src/notifications/deriver.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { settleFunding } from './support/fake-exchange/futures/funding.js';
import { finalRow, LIVE_EXECUTOR_ENV } from './support/live-executor.js';
import { futuresSub, openHeld, reconcileRows, useFuturesKit, type FuturesFake, type Kit, type Venue } from './support/futures-positions.js';
import { waitFor } from './support/wait.js';

const S = 'BTC/USDT:USDT';
const INTERVAL_MS = 300;
/** Taker fee rates of the fakes (Binance USDⓈ-M 0.04 %, Bybit 0.055 %). */
const FEE: Record<Venue, number> = { binance: 0.0004, bybit: 0.00055 };
const near = (a: unknown, b: number, what: string) => assert.ok(Math.abs(Number(a) - b) < 1e-6, `${what}: ${String(a)} ≠ ${b}`);

describe('futures reconciliation (src/execution/reconcile*.ts)', () => {
  const env = useFuturesKit(TEST_DATABASE_URL);
  const FAKES = env.fakes;
  let kit: Kit;
  before(() => { kit = env.kit(); });

  for (const venue of ['binance', 'bybit'] as const) {
    describe(`futures reconciliation on ${venue} (real ccxt against the fake, a poller every ${INTERVAL_MS} ms)`, function () {
      this.timeout(20_000);
      const fake: FuturesFake = FAKES[venue];
      let poller: FuturesReconciler;
      const gone = (positionId: string) => waitFor('the position to be recorded closed', async () => !(await kit.prisma.position.findUnique({ where: { id: positionId } })), 5000);
      const conditional = (apiKey: string, clientId: string | null) => fake.futuresAccount(apiKey).conditionals.find((c) => c.clientId === clientId)?.status;

      before(() => {
        poller = kit.reconciler({ intervalMs: INTERVAL_MS });
        poller.start();
      });
      after(() => poller.stop());
      beforeEach(() => {
        fake.setMarkPrice(S, 60_000);
        fake.setMarkPrice('ETH/USDT:USDT', 3_000);
      });

      it('a short\'s take profit fires: Position deleted, a TAKE_PROFIT row with the fill price and PnL after fees, the stop loss cancelled', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'short', qty: 0.01, sl: 61_000, tp: 58_000 });
        assert.equal(held.entry, 60_000);
        fake.setMarkPrice(S, 57_900);
        await gone(held.positionId);
        const [row, ...more] = await reconcileRows(kit, s.subId);
        assert.equal(more.length, 0);
        assert.deepEqual([row?.action, row?.status, row?.side, Number(row?.amount), Number(row?.price), row?.signalId, row?.error], ['TAKE_PROFIT', 'SUCCESS', 'buy', 0.01, 57_900, null, null]);
        near(row?.realisedPnl, (60_000 - 57_900) * 0.01 - 579 * FEE[venue], 'PnL after the closing fee');
        assert.equal(conditional(s.apiKey, held.slId), 'CANCELED', 'the stop loss no longer rests');
        assert.deepEqual((row?.exchangeResponse as { cancelled: string[] }).cancelled, [held.slId]);
      });

      it('a long\'s stop loss fires: a STOP_LOSS row with a loss, the take profit cancelled', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'long', qty: 0.02, sl: 59_000, tp: 63_000 });
        fake.setMarkPrice(S, 58_950);
        await gone(held.positionId);
        const [row] = await reconcileRows(kit, s.subId);
        assert.deepEqual([row?.action, row?.side, Number(row?.amount), Number(row?.price)], ['STOP_LOSS', 'sell', 0.02, 58_950]);
        near(row?.realisedPnl, (58_950 - 60_000) * 0.02 - 58_950 * 0.02 * FEE[venue], 'loss after the fee');
        assert.equal(conditional(s.apiKey, held.tpId), 'CANCELED');
      });

      it('a liquidation: a LIQUIDATION row at the liquidation price with the loss the venue booked', async () => {
        const s = await futuresSub(kit, venue, fake, 1000);
        const held = await openHeld(kit, s, { side: 'long', qty: 0.05, leverage: 20, isolated: true, sl: 50_000 });
        const [p] = await kit.trader.forKey(venue, s.apiKey, s.secret).fetchPositions([S]);
        const saved = await waitFor('the venue\'s liquidation price on the Position', async () => (await kit.prisma.position.findUnique({ where: { id: held.positionId } }))?.liquidationPrice, 5000);
        near(saved, p!.liquidationPrice!, 'liquidation price kept from the venue');
        const liqAt = Math.floor(p!.liquidationPrice!) - 10;
        fake.setMarkPrice(S, liqAt);
        await gone(held.positionId);
        // (A poll that read the position just before the liquidation may also report its expired stop: not asserted.)
        const row = (await reconcileRows(kit, s.subId)).find((r) => r.action !== 'RECONCILE_MISMATCH');
        assert.deepEqual([row?.action, row?.status, Number(row?.amount), Number(row?.price)], ['LIQUIDATION', 'SUCCESS', 0.05, liqAt]);
        // Binance also books the clearance fee (what was left of the margin, to the insurance fund) as income INSURANCE_CLEAR.
        const clearance = venue === 'binance' ? fake.futuresAccount(s.apiKey).income.filter((i) => i.incomeType === 'INSURANCE_CLEAR').reduce((sum, i) => sum + Number(i.income) / 1e18, 0) : 0;
        near(row?.realisedPnl, (liqAt - 60_000) * 0.05 - liqAt * 0.05 * FEE[venue] + clearance, 'the liquidation\'s PnL after its fee (and clearance)');
        assert.notEqual(conditional(s.apiKey, held.slId), 'NEW', 'nothing rests after a liquidation');
      });

      it('a close by hand in the account is noticed within one poll period: CLOSED_ON_EXCHANGE with the venue\'s price and PnL; SL and TP cancelled', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'long', qty: 0.01, sl: 58_000, tp: 65_000 });
        fake.setMarkPrice(S, 61_000);
        settleFunding(fake.futures, S, '0.0001'); // the long pays 0.01 × 61,000 × 0.01 % = 0.061
        await kit.trader.forKey(venue, s.apiKey, s.secret).closePosition(S, 'long', 0.01, 'by-hand-1');
        const closedAt = Date.now();
        await gone(held.positionId);
        const noticedMs = Date.now() - closedAt;
        // The next poll notices it; the slack is the poll's own lookups (about ten requests) on a loaded machine.
        assert.ok(noticedMs < INTERVAL_MS + 2500, `noticed after ${noticedMs} ms`);
        const [row] = await reconcileRows(kit, s.subId);
        assert.deepEqual([row?.action, Number(row?.amount), Number(row?.price)], ['CLOSED_ON_EXCHANGE', 0.01, 61_000]);
        near(row?.realisedPnl, 10 - 610 * FEE[venue] - 0.061, 'PnL after the fee and the funding paid');
        near((row?.exchangeResponse as { funding: number }).funding, -0.061, 'funding as the venue reports it');
        assert.deepEqual([conditional(s.apiKey, held.slId), conditional(s.apiKey, held.tpId)], ['CANCELED', 'CANCELED']);
      });

      it('a partial close by hand: the Position keeps the rest, one CLOSED_ON_EXCHANGE row for the part; a later stop closes the rest', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'short', qty: 0.03, sl: 62_000 });
        fake.setMarkPrice(S, 59_000);
        await kit.trader.forKey(venue, s.apiKey, s.secret).closePosition(S, 'short', 0.01, 'by-hand-part');
        const left = await waitFor('the quantity left', async () => {
          const p = await kit.prisma.position.findUnique({ where: { id: held.positionId } });
          return p && Number(p.qty) === 0.02 ? p : null;
        }, 5000);
        assert.equal(left.side, 'short');
        const [part] = await reconcileRows(kit, s.subId);
        assert.deepEqual([part?.action, Number(part?.amount), Number(part?.price)], ['CLOSED_ON_EXCHANGE', 0.01, 59_000]);
        near(part?.realisedPnl, 10 - 590 * FEE[venue], 'the part\'s PnL');
        fake.setMarkPrice(S, 62_100);
        await gone(held.positionId);
        const rows = await reconcileRows(kit, s.subId);
        assert.deepEqual(rows.map((r) => [r.action, Number(r.amount)]), [['CLOSED_ON_EXCHANGE', 0.01], ['STOP_LOSS', 0.02]]);
      });

      it('a stop loss cancelled by hand while the position stays open: RECONCILE_MISMATCH once, the Position forgets it and keeps its take profit', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'long', qty: 0.01, sl: 58_000, tp: 62_000 });
        await kit.trader.forKey(venue, s.apiKey, s.secret).cancelProtective(S, held.slId!);
        const p = await waitFor('the stop loss forgotten', async () => {
          const x = await kit.prisma.position.findUnique({ where: { id: held.positionId } });
          return x && x.slClientOrderId === null ? x : null;
        }, 5000);
        assert.deepEqual([Number(p.qty), p.tpClientOrderId], [0.01, held.tpId]);
        await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
        const rows = await reconcileRows(kit, s.subId);
        assert.deepEqual(rows.map((r) => [r.action, r.status]), [['RECONCILE_MISMATCH', 'FAILED']]);
        assert.match(rows[0]!.error!, new RegExp(`stop-loss order ${held.slId} .* no longer rests on the exchange \\(canceled\\)`));
      });

      it('differences nothing explains are RECONCILE_MISMATCH rows (once each), the Position untouched: more than we opened, a position we never opened', async () => {
        const s = await futuresSub(kit, venue, fake);
        const held = await openHeld(kit, s, { side: 'long', qty: 0.01 });
        const acc = kit.trader.forKey(venue, s.apiKey, s.secret);
        await acc.openPosition(S, 'long', 0.01, 'by-hand-add');
        await acc.openPosition('ETH/USDT:USDT', 'short', 0.1, 'by-hand-eth');
        const rows = await waitFor('two mismatch rows', async () => {
          const r = await reconcileRows(kit, s.subId);
          return r.length >= 2 ? r : null;
        }, 5000);
        await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS)); // three more polls: still two rows
        const again = await reconcileRows(kit, s.subId);
        assert.equal(again.length, 2);
        assert.ok(rows.every((r) => r.action === 'RECONCILE_MISMATCH' && r.status === 'FAILED' && /^RECONCILE_MISMATCH: /.test(r.error ?? '')));
        assert.deepEqual(rows.map((r) => r.pair).sort(), ['BTC/USDT', 'ETH/USDT']);
        assert.match(rows.find((r) => r.pair === 'BTC/USDT')!.error!, /holds 0\.02 .* more than the 0\.01/);
        const p = await kit.prisma.position.findUnique({ where: { id: held.positionId } });
        assert.equal(Number(p?.qty), 0.01);
      });
    });
  }

  describe('futures reconciliation: exactly once, and within the request budget', function () {
    this.timeout(20_000);
    const fake = FAKES.binance;
    beforeEach(() => fake.setMarkPrice(S, 60_000));

    it('two pollers at once, after one killed before recording, then a restarted one, record a fired take profit once; nothing while an execution of the pair is PENDING', async () => {
      const s = await futuresSub(kit, 'binance', fake);
      const held = await openHeld(kit, s, { side: 'long', qty: 0.01, sl: 58_000, tp: 61_000 });
      const pending = await kit.prisma.executionLog.create({ data: { userId: s.userId, subscriptionId: s.subId, exchange: 'binance', clientOrderId: `pending-${held.positionId}`, pair: 'BTC/USDT', action: 'CLOSE' } });
      fake.setMarkPrice(S, 61_050);
      const a = kit.reconciler();
      const b = kit.reconciler();
      await Promise.all([a.poll(0), b.poll(0)]);
      assert.equal((await reconcileRows(kit, s.subId)).length, 0, 'our own CLOSE may be in flight: left to the next poll');
      assert.ok(await kit.prisma.position.findUnique({ where: { id: held.positionId } }));
      await kit.prisma.executionLog.update({ where: { id: pending.id }, data: { status: 'FAILED' } });
      // A process killed after its exchange calls (the stop cancelled), before its record: nothing recorded.
      const killed = kit.reconciler();
      killed.store.recordClose = async () => { throw new Error('killed before recording'); };
      assert.equal((await killed.poll(0)).closed, 0);
      assert.equal(fake.futuresAccount(s.apiKey).conditionals.find((c) => c.clientId === held.slId)?.status, 'CANCELED');
      const reports = await Promise.all([a.poll(0), b.poll(0)]);
      assert.equal(reports[0].closed + reports[1].closed, 1, JSON.stringify(reports));
      const restarted = kit.reconciler();
      assert.equal((await restarted.poll(0)).closed, 0);
      const rows = await reconcileRows(kit, s.subId);
      assert.deepEqual(rows.map((r) => r.action), ['TAKE_PROFIT']);
    });

    it('the subscriber is notified as of other executions: position.closed for a close on the exchange, order.failed for a mismatch', async () => {
      const s = await futuresSub(kit, 'binance', fake);
      await kit.prisma.notificationSettings.create({ data: { userId: s.userId, webhookUrl: 'https://hooks.example/rc' } });
      const held = await openHeld(kit, s, { side: 'long', qty: 0.01, sl: 58_000 });
      await kit.trader.forKey('binance', s.apiKey, s.secret).openPosition('ETH/USDT:USDT', 'long', 0.1, 'by-hand-eth-n');
      fake.setMarkPrice(S, 57_990);
      await kit.reconciler().poll(0);
      const rows = await reconcileRows(kit, s.subId);
      assert.deepEqual(rows.map((r) => r.action).sort(), ['RECONCILE_MISMATCH', 'STOP_LOSS']);
      assert.equal(await kit.prisma.position.count({ where: { id: held.positionId } }), 0);
      const deriver = new Deriver(kit.pool, { rescanMs: 60_000, log: createLogger('silent') });
      await deriver.init();
      const outbox = await waitFor('both events queued', async () => {
        await deriver.step();
        const o = await kit.prisma.notificationOutbox.findMany({ where: { userId: s.userId } });
        return o.length >= 2 ? o : null;
      });
      const byKind = new Map(outbox.map((o) => [o.kind, o.payload as Record<string, unknown>]));
      assert.deepEqual([...byKind.keys()].sort(), ['order.failed', 'position.closed']);
      assert.deepEqual([byKind.get('position.closed')?.closeReason, byKind.get('position.closed')?.pair], ['STOP_LOSS', 'BTC/USDT']);
      assert.equal(byKind.get('order.failed')?.code, 'RECONCILE_MISMATCH');
      assert.ok(String(byKind.get('position.closed')?.strategy).startsWith('rc '), 'the strategy comes from the subscription');
    });

    it('the reconciler spends only its share of the venue budget (the monitor\'s class); orders keep the rest of the window', async () => {
      // 20 units a minute for binanceusdm; non-order traffic 50 %, the monitor's class halfway to 100 %: 15 units for the reconciler.
      const budget = createVenueBudget({ prefix: '', settings: { percent: 80, perVenue: { binanceusdm: 20 }, otherPercent: 50, maxWaitMs: 0 } });
      const subs = await Promise.all(Array.from({ length: 20 }, () => futuresSub(kit, 'binance', fake)));
      for (const s of subs) await openHeld(kit, s, { side: 'long', qty: 0.01 });
      fake.resetCounters();
      const r = kit.reconciler({ budget, budgetWaitMs: 0, keysInParallel: 1 });
      const report = await r.poll(0);
      const asked = fake.requestCount('/fapi/v3/positionRisk');
      assert.ok(report.busyKeys >= 1 && asked <= 15 && asked >= 1, `${asked} position requests, ${JSON.stringify(report)}`);
      // The same counters (venue and origin): the reconciler's share is spent, an order still goes through at once.
      const ref = { id: 'binanceusdm', key: `binanceusdm@${new URL(kit.urls.binance!).host}`, limit: 20 };
      await assert.rejects(budget.acquire(ref, 1, 'prices', 0), ExchangeBusy);
      await budget.acquire(ref, 1, 'order', 0);
    });
  });

  describe('futures reconciliation inside the app (role executor): end to end, and the daily loss limit', function () {
    this.timeout(30_000);
    const fake = FAKES.binance;
    let app: App;
    before(async () => {
      app = await startTestApp({ ...LIVE_EXECUTOR_ENV, EXCHANGE_URL_BINANCEUSDM: kit.urls.binance, RECONCILE_INTERVAL_MS: '300' });
    });
    after(() => app?.stop());
    beforeEach(() => fake.setMarkPrice(S, 60_000));

    async function subscribe(strategyId: string, risk: Record<string, unknown> = {}) {
      const user = await registerUser(app);
      const apiKey = `fk-${randomUUID()}`;
      const secret = `fs-${randomUUID()}`;
      fake.addAccount(apiKey, secret, { USDT: 10_000 });
      const r = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', market: 'futures', leverage: 5, sizing: { mode: 'quote', amount: 100 }, risk, apiKey, apiSecret: secret }, user.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { venue: 'binance' as const, apiKey, secret, subId: r.body.id as string, userId: user.user.id, strategyId };
    }

    it('end to end: OPEN SHORT through the executor rests SL and TP; the take profit fires; the reconciler records it (PnL with the entry fee), cancels the SL; a later CLOSE finds nothing', async () => {
      const { strategyId } = await seedStrategy(app);
      const s = await subscribe(strategyId);
      const accept = (body: Record<string, unknown>) => app.coordinator.accept({ strategyId, pair: 'BTC/USDT', direction: 'SHORT', price: 60_000, ...body } as never, 'api').then((r) => r.signal);
      const open = await finalRow(app, s.subId, (await accept({ action: 'OPEN', stopLoss: 61_000, takeProfit: 58_000 })).id);
      assert.equal(open.status, 'SUCCESS', open.error ?? '');
      const pos = await kit.prisma.position.findFirstOrThrow({ where: { subscriptionId: s.subId } });
      assert.deepEqual([pos.market, pos.side, Number(pos.qty)], ['futures', 'short', 0.008], 'margin 100 × leverage 5 at 60,000');
      assert.ok(pos.slClientOrderId && pos.tpClientOrderId);
      fake.setMarkPrice(S, 57_900);
      const row = await waitFor('the TAKE_PROFIT row', async () => (await reconcileRows(kit, s.subId)).find((r) => r.action === 'TAKE_PROFIT'), 10_000);
      near(row.realisedPnl, (60_000 - 57_900) * 0.008 - 57_900 * 0.008 * FEE.binance - Number(pos.entryFee ?? 0), 'round trip after fees');
      assert.equal(await kit.prisma.position.count({ where: { subscriptionId: s.subId } }), 0);
      assert.equal(fake.futuresAccount(s.apiKey).conditionals.find((c) => c.clientId === pos.slClientOrderId)?.status, 'CANCELED');
      await waitFor('reconcile_records_total on /metrics', async () => /reconcile_records_total\{kind="closed"\} [1-9]/.test(await (await fetch(`${app.url}/metrics`)).text()));
      const close = await finalRow(app, s.subId, (await accept({ action: 'CLOSE', price: 57_900 })).id);
      assert.equal(close.status, 'SKIPPED');
      assert.match(close.error ?? '', /^NO_POSITION: /);
    });

    it('a stop loss that fires is recorded by the app\'s reconciler, counts against the daily loss limit, and the next entry is SKIPPED DAILY_LOSS_LIMIT', async () => {
      const { strategyId } = await seedStrategy(app);
      const s = await subscribe(strategyId, { dailyLossLimit: 20 });
      const held = await openHeld(kit, s, { side: 'long', qty: 0.05, sl: 59_500 });
      fake.setMarkPrice(S, 59_400);
      const row = await waitFor('the STOP_LOSS row', async () => (await reconcileRows(kit, s.subId)).find((r) => r.action === 'STOP_LOSS'), 10_000);
      near(row.realisedPnl, -30 - 59_400 * 0.05 * FEE.binance, 'the loss after the fee');
      assert.equal(await kit.prisma.position.count({ where: { id: held.positionId } }), 0);
      const signal = (await app.coordinator.accept({ strategyId, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 59_400 } as never, 'api')).signal;
      const refused = await finalRow(app, s.subId, signal.id);
      assert.equal(refused.status, 'SKIPPED');
      assert.match(refused.error ?? '', /^DAILY_LOSS_LIMIT: realised loss today 31\.19 reached the limit 20/);
    });
  });
});
