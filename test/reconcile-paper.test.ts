/**
 * Paper futures positions (no orders on the exchange) fire their stop-loss / take-profit levels at the venue's
 * public mark price in the reconciliation (src/execution/reconcile-paper.ts): real ccxt against both futures
 * fakes (Binance premiumIndex, Bybit tickers), real PostgreSQL; recorded once like an exchange close, paper.
 */
import assert from 'node:assert/strict';
import { levelReached } from '../src/execution/reconcile-paper.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { futuresSub, reconcileRows, useFuturesKit, type Kit } from './support/futures-positions.js';

describe('futures reconciliation: paper positions fire their levels at the mark price', function () {
  this.timeout(20_000);
  const { fakes, kit: kitOf } = useFuturesKit(TEST_DATABASE_URL);
  let kit: Kit;
  before(() => { kit = kitOf(); });

  it('levels: a long stops at or below and takes profit at or above; a short the reverse', () => {
    const long = { side: 'long' as const, stopLoss: 59_000, takeProfit: 62_000 };
    const short = { side: 'short' as const, stopLoss: 61_000, takeProfit: 58_000 };
    assert.deepEqual([59_000, 60_000, 62_000].map((m) => levelReached(long, m)), ['STOP_LOSS', null, 'TAKE_PROFIT']);
    assert.deepEqual([61_000, 60_000, 58_000].map((m) => levelReached(short, m)), ['STOP_LOSS', null, 'TAKE_PROFIT']);
    assert.equal(levelReached({ side: 'long', stopLoss: null, takeProfit: null }, 1), null);
  });

  it('Binance long stopped and Bybit short taken profit: paper rows at the mark price with their PnL, once; nothing before the price gets there', async () => {
    const paper = async (venue: 'binance' | 'bybit', side: 'long' | 'short', stopLoss: number, takeProfit: number) => {
      const s = await futuresSub(kit, venue, fakes[venue]);
      const p = await kit.prisma.position.create({ data: { subscriptionId: s.subId, strategyId: s.strategyId, pair: 'BTC/USDT', market: 'futures', side, qty: 0.02, avgPrice: 60_000, stopLoss, takeProfit, entryFee: 0.5, paper: true } });
      return { s, p };
    };
    const long = await paper('binance', 'long', 59_000, 62_000);
    const short = await paper('bybit', 'short', 61_000, 58_000);
    for (const f of Object.values(fakes)) f.setMarkPrice('BTC/USDT:USDT', 60_000);
    const r = kit.reconciler();
    assert.equal((await r.poll(0)).paperClosed, 0);
    fakes.binance.setMarkPrice('BTC/USDT:USDT', 58_900);
    fakes.bybit.setMarkPrice('BTC/USDT:USDT', 57_950);
    const reports = await Promise.all([r.poll(0), kit.reconciler().poll(0)]);
    assert.equal(reports[0].paperClosed + reports[1].paperClosed, 2);
    assert.equal(await kit.prisma.position.count({ where: { id: { in: [long.p.id, short.p.id] } } }), 0);
    const [stopped] = await reconcileRows(kit, long.s.subId);
    const [taken] = await reconcileRows(kit, short.s.subId);
    assert.deepEqual([stopped?.action, stopped?.paper, stopped?.side, Number(stopped?.price), Number(stopped?.realisedPnl)], ['STOP_LOSS', true, 'sell', 58_900, -22.5]);
    assert.deepEqual([taken?.action, taken?.paper, taken?.side, Number(taken?.price), Number(taken?.realisedPnl)], ['TAKE_PROFIT', true, 'buy', 57_950, 40.5]);
    assert.equal((await r.poll(0)).paperClosed, 0);
  });
});
