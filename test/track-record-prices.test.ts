/**
 * Issue 16, item 2: track records from market prices. An author who declares prices of their own
 * choosing (a 94 % win rate, +3×10⁹ % per trade) while the reference market shows losses gets the
 * market's record published, and /verify does not call the declared one verified. Trades with a leg
 * whose price could not be checked are listed as "price not verified" and left out of the statistics.
 * Market prices are set with SQL, as the coordinator stores them at acceptance.
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { trackStats } from '../src/marketplace/stats.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';

interface Leg { pair: string; action: 'OPEN' | 'CLOSE'; direction?: 'LONG' | 'SHORT'; price: number; market: number | null }

describe('track records from market prices (stats, equity curve, /verify)', function () {
  this.timeout(60_000);
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  /** Publishes `legs` over REST as the strategy's author, then stores each leg's market price. */
  async function publish(legs: Leg[]): Promise<{ strategyId: string; ids: string[] }> {
    const { author, strategyId } = await seedStrategy(app);
    const ids: string[] = [];
    for (const { market: _m, ...leg } of legs) {
      const r = await api.post('/api/signals', { strategyId, direction: 'LONG', ...leg }, author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    await setMarketPrices(app, strategyId, Object.fromEntries(ids.map((id, i) => [id, legs[i]!.market])));
    return { strategyId, ids };
  }

  /** One round trip on `pair`: declared open → close, market open → close (null = not verified). */
  const trade = (pair: string, declared: [number, number], market: [number | null, number | null]): Leg[] => [
    { pair, action: 'OPEN', price: declared[0], market: market[0] },
    { pair, action: 'CLOSE', price: declared[1], market: market[1] },
  ];

  it('when an author declares 16 wins and 1 loss (94 % win rate) while the market fell 5 % on every trade, the strategy shows 0 % wins and -5 % per trade, and /verify reports the divergence, not ok', async () => {
    const pair = uniquePair();
    const legs = [
      ...Array.from({ length: 16 }, () => trade(pair, [100, 110], [100, 95])).flat(),
      ...trade(pair, [100, 90], [100, 95]),
    ];
    const { strategyId } = await publish(legs);
    const market = trackStats(Array(17).fill(-5));

    const detail = await api.get(`/api/strategies/${strategyId}`);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.stats, market);
    assert.equal(detail.body.stats.winRate, 0);
    assert.equal(detail.body.stats.avgPnlPct, -5);
    assert.equal(detail.body.equityCurve.length, 17);
    assert.equal(detail.body.equityCurve.at(-1).equity, market.totalPnlPct + 100);
    assert.equal(detail.body.verifiedShare, 1);
    assert.deepEqual(detail.body.priceVerification, { signals: 34, verifiedSignals: 34, verifiedTrades: 17, unverifiedTrades: 0 });
    // The declared prices stay visible beside the market's.
    const last = detail.body.closedTrades[0];
    assert.deepEqual([last.entryPrice, last.entryMarketPrice, last.exitPrice, last.exitMarketPrice, last.pnlPct, last.declaredPnlPct, last.verified], [100, 100, 90, 95, -5, -10, true]);

    const listed = (await api.get('/api/strategies')).body.strategies.find((s: { id: string }) => s.id === strategyId);
    assert.deepEqual(listed.stats, market);
    assert.equal(listed.verifiedShare, 1);

    const v = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(v.body.ok, false);
    assert.deepEqual(v.body.reasons, ['DECLARED_PRICES_DIVERGE']);
    assert.equal(v.body.chain.ok, true);
    assert.equal(v.body.statsMatch, true);
    assert.deepEqual(v.body.recomputed, market);
    assert.equal(v.body.declared.winRate, 94.12, 'the claimed record is reported as declared only');
    assert.equal(v.body.prices.divergence.beyondTolerance, 17, 'every CLOSE at 110 or 90 against 95');
    assert.equal(v.body.prices.divergence.maxPct, 15.7895);
    assert.equal(v.body.prices.divergence.worst.length, 10);
  });

  it('a trade declared from 0.00001 to 300 (+3×10⁹ %) while the market went from 100 to 99 counts as -1 %', async () => {
    const { strategyId } = await publish(trade(uniquePair(), [0.00001, 300], [100, 99]));
    const s = (await api.get(`/api/strategies/${strategyId}`)).body.stats;
    assert.equal(s.avgPnlPct, -1);
    assert.equal(s.totalPnlPct, -1);
    const v = (await api.get(`/api/strategies/${strategyId}/verify`)).body;
    assert.equal(v.ok, false);
    assert.equal(v.declared.avgPnlPct, 2_999_999_900);
    assert.equal(v.recomputed.avgPnlPct, -1);
  });

  it('trades with an unverified leg are left out of the stats and the equity curve and listed as not verified; verifiedShare counts signals with a market price', async () => {
    const [a, b, c] = [uniquePair(), uniquePair(), uniquePair()];
    const { strategyId, ids } = await publish([
      ...trade(a, [100, 95], [100, 95]), // verified: -5 %
      ...trade(a, [100, 102], [100, 102]), // verified: +2 %
      ...trade(b, [100, 150], [null, null]), // declared +50 %, no market price at all
      ...trade(b, [100, 150], [100, null]), // exit not verified
      ...trade(c, [100, 150], [null, 100]), // entry not verified
      { pair: c, action: 'OPEN', price: 10, market: null }, // open, not verified
    ]);
    const d = (await api.get(`/api/strategies/${strategyId}`)).body;
    assert.deepEqual(d.stats, trackStats([-5, 2]));
    assert.deepEqual(d.equityCurve.map((p: { equity: number }) => p.equity), [95, 96.9]);
    assert.deepEqual(d.priceVerification, { signals: 11, verifiedSignals: 6, verifiedTrades: 2, unverifiedTrades: 3 });
    assert.equal(d.verifiedShare, 0.5455);
    const flags = d.closedTrades.map((t: { verified: boolean; pnlPct: number | null; declaredPnlPct: number }) => [t.verified, t.pnlPct, t.declaredPnlPct]);
    assert.deepEqual(flags, [[false, null, 50], [false, null, 50], [false, null, 50], [true, 2, 2], [true, -5, -5]]);
    assert.deepEqual(d.openTrades.map((t: { priceVerified: boolean; entryMarketPrice: number | null }) => [t.priceVerified, t.entryMarketPrice]), [[false, null]]);

    const sig = (await api.get(`/api/strategies/${strategyId}/signals`)).body.signals;
    assert.deepEqual(sig.map((s: { id: string; price: number; marketPrice: number | null }) => [s.id, s.price, s.marketPrice]),
      [[ids[0], 100, 100], [ids[1], 95, 95], [ids[2], 100, 100], [ids[3], 102, 102], [ids[4], 100, null], [ids[5], 150, null], [ids[6], 100, 100], [ids[7], 150, null], [ids[8], 100, null], [ids[9], 150, 100], [ids[10], 10, null]]);

    const v = (await api.get(`/api/strategies/${strategyId}/verify`)).body;
    assert.deepEqual(v.recomputed, d.stats);
    assert.deepEqual([v.prices.verifiedShare, v.prices.verifiedTrades, v.prices.unverifiedTrades], [0.5455, 2, 3]);
    assert.equal(v.declared.trades, 5);
    // The CLOSE declared at 150 against a market of 100 diverges; nothing else does.
    assert.deepEqual(v.prices.divergence.worst.map((w: { signalId: string; divergencePct: number }) => [w.signalId, w.divergencePct]), [[ids[9], 50]]);
    assert.equal(v.ok, false);
  });

  it('an honest strategy whose declared prices are within the tolerance of the market verifies ok with its market record', async () => {
    const pair = uniquePair();
    const { strategyId } = await publish([...trade(pair, [100, 110], [101, 109]), ...trade(pair, [200, 190], [199, 191])]);
    const v = (await api.get(`/api/strategies/${strategyId}/verify`)).body;
    assert.equal(v.ok, true, JSON.stringify(v.reasons));
    assert.deepEqual(v.recomputed, trackStats([(109 - 101) / 101 * 100, (191 - 199) / 199 * 100].map((p) => Math.round(p * 1e8) / 1e8)));
    assert.equal(v.prices.divergence.beyondTolerance, 0);
    assert.equal(v.prices.divergence.maxPct, 0.9901); // |100 − 101| / 101
  });

  it('a strategy without signals has no win rate and no verified share (null, not 0)', async () => {
    const { strategyId } = await seedStrategy(app);
    const d = (await api.get(`/api/strategies/${strategyId}`)).body;
    assert.deepEqual([d.stats.trades, d.stats.winRate, d.verifiedShare], [0, null, null]);
    assert.deepEqual(d.closedTrades, []);
  });
});
