/**
 * Protective orders on Binance spot, through the executor, the real ccxt and the fake Binance, whose
 * symbols list order types as the real ones do: ETH/USDT here lists only LIMIT, LIMIT_MAKER, MARKET,
 * STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT (like real BTCUSDT), SOL/USDT all seven.
 * SL + TP → one OCO list; SL only → STOP_LOSS where listed, else STOP_LOSS_LIMIT EXECUTOR_STOP_LIMIT_OFFSET_PERCENT (1 here) below; an unclear
 * failure after the list was placed → found by its list client id, never placed twice; CLOSE cancels the
 * list (counting a leg's fill) and sells the rest.
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { seedStrategy } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { BTCUSDT_ORDER_TYPES } from './support/fake-exchange/markets.js';
import { historyOf, useLiveExecutor } from './support/live-executor.js';

describe('protective orders on Binance spot (order types per symbol, OCO lists)', function () {
  this.timeout(30_000);
  const fake = new FakeBinance({
    duplicateClientIdMode: 'binance',
    markets: [{ base: 'ETH', quote: 'USDT', price: '3000', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5', orderTypes: BTCUSDT_ORDER_TYPES }],
  });
  const live = useLiveExecutor({ binance: fake }, { EXECUTOR_STOP_LIMIT_OFFSET_PERCENT: '1' });
  const { subscribe, signal, finalRow } = live;
  let app: App;

  before(() => { app = live.app(); });
  beforeEach(() => { fake.clearFaults(); fake.setPrice('ETH/USDT', 3000); fake.setPrice('SOL/USDT', 150); });

  const shape = (apiKey: string) => fake.orders(apiKey).map((o) => [o.type, o.side, o.status, o.orderListId >= 0 ? 'list' : '-']);
  const position = (subId: string, pair = 'ETH/USDT') => app.db.prisma.position.findUnique({ where: { subscriptionId_pair: { subscriptionId: subId, pair } } });

  it('on a symbol listing only stop-limit types, SL + TP rest as one OCO list (SUCCESS); a CLOSE cancels the list and sells', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    const open = await signal(strategyId, { stopLoss: 2800, takeProfit: 3300 });
    const row = await finalRow(sub.subId, open.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.deepEqual(shape(sub.apiKey), [['MARKET', 'BUY', 'FILLED', '-'], ['STOP_LOSS_LIMIT', 'SELL', 'NEW', 'list'], ['LIMIT_MAKER', 'SELL', 'NEW', 'list']]);
    const [, stop, tp] = fake.orders(sub.apiKey);
    assert.equal(stop!.orderListId, tp!.orderListId);
    assert.deepEqual([stop!.stopPrice, stop!.price, tp!.price], ['2800.00000000', '2772.00000000', '3300.00000000']);
    assert.equal(stop!.origQty, '0.03330000');
    assert.equal(fake.balances(sub.apiKey).ETH!.locked, '0.03330000');
    const pos = await position(sub.subId);
    assert.equal(pos?.protectClientOrderId, (row.legs as { protect: { clientOrderId: string } }).protect.clientOrderId);

    fake.setPrice('ETH/USDT', 2900);
    const close = await signal(strategyId, { action: 'CLOSE', price: 2900 });
    const closed = await finalRow(sub.subId, close.id);
    assert.equal(closed.status, 'SUCCESS', closed.error ?? '');
    assert.deepEqual(shape(sub.apiKey), [['MARKET', 'BUY', 'FILLED', '-'], ['STOP_LOSS_LIMIT', 'SELL', 'CANCELED', 'list'], ['LIMIT_MAKER', 'SELL', 'CANCELED', 'list'], ['MARKET', 'SELL', 'FILLED', '-']]);
    assert.equal(fake.orders(sub.apiKey)[3]!.origQty, '0.03330000');
    assert.ok(Math.abs(Number(closed.realisedPnl) - (2900 - 3000) * 0.0333) < 1e-9, String(closed.realisedPnl));
    assert.equal(await position(sub.subId), null);
    assert.equal(fake.balances(sub.apiKey).ETH!.free, '0.00000000');
  });

  it('SL only: a market STOP_LOSS where the symbol lists it, else a STOP_LOSS_LIMIT EXECUTOR_STOP_LIMIT_OFFSET_PERCENT (1 here) below the trigger', async () => {
    const { strategyId } = await seedStrategy(app);
    const sol = await subscribe(strategyId);
    const s1 = await app.coordinator.accept({ strategyId, pair: 'SOL/USDT', action: 'OPEN', direction: 'LONG', price: 150, stopLoss: 140 } as never, 'api').then((r) => r.signal);
    assert.equal((await finalRow(sol.subId, s1.id)).status, 'SUCCESS');
    const eth = await subscribe(strategyId);
    const s2 = await signal(strategyId, { stopLoss: 2800 });
    const row = await finalRow(eth.subId, s2.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    const solStop = fake.orders(sol.apiKey)[1]!;
    assert.deepEqual([solStop.type, solStop.stopPrice, solStop.price], ['STOP_LOSS', '140.00000000', '0.00000000']);
    const ethStop = fake.orders(eth.apiKey)[1]!;
    assert.deepEqual([ethStop.type, ethStop.stopPrice, ethStop.price, ethStop.orderListId], ['STOP_LOSS_LIMIT', '2800.00000000', '2772.00000000', -1]);
    // The stop-limit fires when the price falls through it and sells at or above its limit.
    fake.setPrice('ETH/USDT', 2780);
    assert.equal(fake.orders(eth.apiKey)[1]!.status, 'FILLED');
  });

  it('when the list is placed and the answer times out, finds it by its list client id and does not place it twice', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.resetCounters();
    fake.injectFault({ kind: 'placeThenTimeout', how: 'hang' }, { path: '/api/v3/orderList/oco', method: 'POST', apiKey: sub.apiKey, times: 1 });
    const open = await signal(strategyId, { stopLoss: 2800, takeProfit: 3300 });
    const row = await finalRow(sub.subId, open.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.ok(row.attempts >= 2);
    assert.equal(fake.requestCount('/api/v3/orderList/oco', 'POST'), 1);
    assert.deepEqual(shape(sub.apiKey), [['MARKET', 'BUY', 'FILLED', '-'], ['STOP_LOSS_LIMIT', 'SELL', 'NEW', 'list'], ['LIMIT_MAKER', 'SELL', 'NEW', 'list']]);
    assert.ok(historyOf(row).includes('found by clientOrderId'), historyOf(row).join(', '));
    assert.ok((await position(sub.subId))?.protectClientOrderId);
  });

  it('a list lookup that misses a list just placed ends in Binance\'s "Duplicate order sent." on the resend, which is looked up again, not a failure', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.resetCounters();
    fake.injectFault({ kind: 'placeThenTimeout', how: 'hang' }, { path: '/api/v3/orderList/oco', method: 'POST', apiKey: sub.apiKey, times: 1 });
    // GET /api/v3/orderList reads Binance's database: right after the create it may not show the list yet.
    fake.injectFault({ kind: 'respond', status: 400, body: { code: -2013, msg: 'Order list does not exist.' } }, { path: '/api/v3/orderList', method: 'GET', apiKey: sub.apiKey, times: 1 });
    const open = await signal(strategyId, { stopLoss: 2800, takeProfit: 3300 });
    const row = await finalRow(sub.subId, open.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.equal(fake.requestCount('/api/v3/orderList/oco', 'POST'), 2);
    assert.deepEqual(shape(sub.apiKey), [['MARKET', 'BUY', 'FILLED', '-'], ['STOP_LOSS_LIMIT', 'SELL', 'NEW', 'list'], ['LIMIT_MAKER', 'SELL', 'NEW', 'list']]);
    assert.ok(historyOf(row).includes('found by clientOrderId'), historyOf(row).join(', '));
    assert.ok((await position(sub.subId))?.protectClientOrderId);
  });

  it('an OCO the exchange refuses leaves the entry recorded once and the row PARTIAL naming both levels', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    fake.failOrderTypes(['OCO'], { status: 400, code: -2010, msg: 'OCO orders are not supported for this symbol' }, 1);
    const open = await signal(strategyId, { stopLoss: 2800, takeProfit: 3300 });
    const row = await finalRow(sub.subId, open.id);
    assert.equal(row.status, 'PARTIAL');
    assert.match(row.error ?? '', /^PROTECT_FAILED: entry filled, stop-loss \+ take-profit order failed: .*OCO orders are not supported/);
    assert.deepEqual(shape(sub.apiKey), [['MARKET', 'BUY', 'FILLED', '-']]);
    assert.equal(Number((await position(sub.subId))?.qty), 0.0333);
    assert.equal((await position(sub.subId))?.protectClientOrderId, null);
  });

  it('a CLOSE after the take-profit leg filled counts that fill in the PnL and sells nothing more', async () => {
    const { strategyId } = await seedStrategy(app);
    const sub = await subscribe(strategyId);
    const open = await signal(strategyId, { stopLoss: 2800, takeProfit: 3300 });
    assert.equal((await finalRow(sub.subId, open.id)).status, 'SUCCESS');
    fake.setPrice('ETH/USDT', 3310);
    // One leg executing expires the other (OCO), on the exchange's own.
    assert.deepEqual(shape(sub.apiKey).slice(1), [['STOP_LOSS_LIMIT', 'SELL', 'EXPIRED', 'list'], ['LIMIT_MAKER', 'SELL', 'FILLED', 'list']]);
    const close = await signal(strategyId, { action: 'CLOSE', price: 3310 });
    const row = await finalRow(sub.subId, close.id);
    assert.equal(row.status, 'SUCCESS', row.error ?? '');
    assert.equal(fake.orders(sub.apiKey).length, 3, 'no further sell');
    assert.ok(Math.abs(Number(row.realisedPnl) - (3300 - 3000) * 0.0333) < 1e-9, String(row.realisedPnl));
    assert.equal(await position(sub.subId), null);
  });
});
