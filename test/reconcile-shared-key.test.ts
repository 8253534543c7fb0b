/**
 * Two subscriptions of one user on one API key (two strategies) hold the same symbol and side: the venue (one-way
 * mode) shows ONE position, their sum. The reconciliation compares the sum, closes the one whose own take profit
 * filled and leaves the other alone; a position one of them opens is never a mismatch for the other.
 */
import assert from 'node:assert/strict';
import { TEST_DATABASE_URL } from './support/env.js';
import { futuresSub, openHeld, reconcileRows, sameKeySub, useFuturesKit, type Kit } from './support/futures-positions.js';

const S = 'BTC/USDT:USDT';

describe('futures reconciliation: subscriptions sharing one key and symbol', function () {
  this.timeout(20_000);
  const { fakes, kit: kitOf } = useFuturesKit(TEST_DATABASE_URL);
  let kit: Kit;
  before(() => { kit = kitOf(); });

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
