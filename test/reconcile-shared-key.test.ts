/**
 * Several positions on one API key. Two subscriptions of one user on one key (two strategies) holding the same
 * symbol and side are ONE position on the venue (one-way mode), their sum: the reconciliation compares the sum,
 * closes the one whose own take profit filled and leaves the other alone. A position the venue cannot answer for
 * does not hold up the key's others.
 */
import assert from 'node:assert/strict';
import { TEST_DATABASE_URL } from './support/env.js';
import { futuresSub, openHeld, reconcileRows, sameKeySub, useFuturesKit, type Kit } from './support/futures-positions.js';

const S = 'BTC/USDT:USDT';

describe('futures reconciliation: several positions on one key', function () {
  this.timeout(20_000);
  const { fakes, kit: kitOf } = useFuturesKit(TEST_DATABASE_URL);
  let kit: Kit;
  before(() => { kit = kitOf(); });

  it('a position the venue cannot answer for (a symbol it does not list) does not hold up the key\'s other positions', async () => {
    const fake = fakes.binance;
    fake.setMarkPrice(S, 60_000);
    const a = await futuresSub(kit, 'binance', fake);
    const b = await sameKeySub(kit, a, fake);
    const held = await openHeld(kit, a, { side: 'short', qty: 0.01, tp: 59_000 });
    const stale = await kit.prisma.position.create({ data: { subscriptionId: b.subId, strategyId: b.strategyId, pair: 'DELISTED/USDT', market: 'futures', side: 'long', qty: 1, avgPrice: 1 } });
    fake.setMarkPrice(S, 58_900);
    const report = await kit.reconciler().poll(0);
    assert.deepEqual([report.closed, report.failedKeys], [1, 0], JSON.stringify(report));
    assert.equal(await kit.prisma.position.count({ where: { id: held.positionId } }), 0);
    assert.ok(await kit.prisma.position.findUnique({ where: { id: stale.id } }), 'kept: nothing the venue said explains it');
  });

  for (const venue of ['binance', 'bybit'] as const) {
    it(`${venue}: the sum is what the venue holds (no mismatch); one take profit fires: that one is closed, the other kept`, async () => {
      const fake = fakes[venue];
      fake.setMarkPrice(S, 60_000);
      const a = await futuresSub(kit, venue, fake);
      const b = await sameKeySub(kit, a, fake);
      const first = await openHeld(kit, a, { side: 'long', qty: 0.01, sl: 58_000, tp: 61_000 });
      const second = await openHeld(kit, b, { side: 'long', qty: 0.02, sl: 57_000, tp: 63_000 });
      const [held] = await kit.trader.forKey(venue, a.apiKey, a.secret).fetchPositions([S]);
      assert.equal(held?.contracts, 0.03);
      const r = kit.reconciler();
      const quiet = await r.poll(0);
      assert.deepEqual([await reconcileRows(kit, a.subId), await reconcileRows(kit, b.subId)].map((x) => x.length), [0, 0], JSON.stringify(quiet));
      fake.setMarkPrice(S, 61_100);
      const report = await r.poll(0);
      assert.equal(report.closed, 1, JSON.stringify(report));
      const [tp] = await reconcileRows(kit, a.subId);
      assert.deepEqual([tp?.action, Number(tp?.amount), Number(tp?.price)], ['TAKE_PROFIT', 0.01, 61_100]);
      assert.equal(await kit.prisma.position.count({ where: { id: first.positionId } }), 0);
      assert.equal(Number((await kit.prisma.position.findUnique({ where: { id: second.positionId } }))?.qty), 0.02);
      assert.equal(fake.futuresAccount(a.apiKey).conditionals.find((c) => c.clientId === second.tpId)?.status, 'NEW', 'the other subscription\'s orders keep resting');
      await r.poll(0);
      assert.equal((await reconcileRows(kit, b.subId)).length, 0);
    });
  }
});
