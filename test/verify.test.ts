/**
 * GET /api/strategies/:id/verify recomputes the hash chain and the statistics (at the signals' market
 * prices) from the raw signals, so a signal row altered, removed or a Trade row rewritten directly in the
 * database is detected. The fabricated-record cases (declared prices far from the market) are in
 * track-record-prices.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { trackStats } from '../src/marketplace/stats.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';

describe('track record verification (GET /api/strategies/:id/verify)', function () {
  this.timeout(20_000);
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  /**
   * A strategy with two closed trades (+10 %, -5 %) and one open trade; returns its signals. With
   * `market`, every signal's market price equals its declared price (as an honest author's would).
   */
  async function strategyWithHistory(opts: { market?: boolean } = { market: true }) {
    const { author, strategyId } = await seedStrategy(app);
    const [a, b] = [uniquePair(), uniquePair()];
    const steps = [
      { pair: a, action: 'OPEN', direction: 'LONG', price: 100 },
      { pair: a, action: 'CLOSE', price: 110 },
      { pair: b, action: 'OPEN', direction: 'SHORT', price: 200 },
      { pair: b, action: 'CLOSE', price: 210 },
      { pair: a, action: 'OPEN', direction: 'LONG', price: 120 },
    ];
    const signals = [];
    for (const s of steps) {
      const r = await api.post('/api/signals', { strategyId, ...s }, author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      signals.push(r.body as { id: string; seq: number; hash: string; prevHash: string | null });
    }
    if (opts.market) await setMarketPrices(app, strategyId, Object.fromEntries(signals.map((s, i) => [s.id, steps[i]!.price])));
    const chain = await app.db.prisma.signal.findMany({ where: { strategyId }, orderBy: { seq: 'asc' }, select: { hash: true } });
    signals.forEach((s, i) => { s.hash = chain[i]!.hash; });
    return { strategyId, signals };
  }

  it('on an untouched history, reports an intact chain and recomputed stats equal to the published ones', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true, JSON.stringify(r.body));
    assert.equal(r.body.signals, 5);
    assert.equal(r.body.chain.head, signals.at(-1)!.hash);
    assert.deepEqual(r.body.recomputed, trackStats([10, -5]));
    assert.equal(r.body.recomputed.totalPnlPct, 4.5);
    assert.equal(r.body.openTrades, 1);
    assert.equal(r.body.statsMatch, true);
    assert.deepEqual(r.body.reasons, []);
    assert.equal(r.body.prices.verifiedShare, 1);
    assert.equal(r.body.prices.divergence.maxPct, 0);
    const detail = await api.get(`/api/strategies/${strategyId}`);
    assert.deepEqual(detail.body.stats, r.body.recomputed);
  });

  it('on a history without market prices, the chain verifies but no performance is verified: 0 trades recomputed, the declared +4.5 % only under `declared`', async () => {
    const { strategyId } = await strategyWithHistory({ market: false });
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(r.body.chain.ok, true);
    assert.equal(r.body.recomputed.trades, 0);
    assert.equal(r.body.recomputed.winRate, null);
    assert.deepEqual(r.body.declared, trackStats([10, -5]));
    assert.deepEqual([r.body.prices.verifiedShare, r.body.prices.verifiedSignals, r.body.prices.verifiedTrades, r.body.prices.unverifiedTrades], [0, 0, 0, 2]);
    assert.equal((await api.get(`/api/strategies/${strategyId}`)).body.stats.trades, 0);
  });

  it('when a signal price is altered directly in the database, reports HASH_MISMATCH at that seq and the divergence from the market', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    await app.db.pool.query('UPDATE "Signal" SET price = 150 WHERE id = $1', [signals[1]!.id]);
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(r.body.ok, false);
    assert.equal(r.body.chain.ok, false);
    assert.deepEqual(r.body.chain.problems, [{ seq: signals[1]!.seq, signalId: signals[1]!.id, problem: 'HASH_MISMATCH' }]);
    assert.deepEqual(r.body.reasons, ['CHAIN_BROKEN', 'DECLARED_PRICES_DIVERGE']);
    assert.equal(r.body.declared.totalPnlPct, trackStats([50, -5]).totalPnlPct);
    assert.deepEqual(r.body.recomputed, trackStats([10, -5]), 'the market record does not move with the declared price');
    assert.equal(r.body.prices.divergence.worst[0].signalId, signals[1]!.id);
  });

  it('when a market price is altered in the Signal table only, the recomputed stats no longer match the published ones', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    await app.db.pool.query('UPDATE "Signal" SET "marketPrice" = 150 WHERE id = $1', [signals[1]!.id]);
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(r.body.statsMatch, false);
    assert.equal(r.body.ok, false);
    assert.ok(r.body.reasons.includes('STATS_MISMATCH'));
    assert.equal(r.body.recomputed.totalPnlPct, trackStats([50, -5]).totalPnlPct);
    assert.equal(r.body.published.totalPnlPct, trackStats([10, -5]).totalPnlPct);
  });

  it('when an altered row also gets a recomputed hash, the next link breaks (PREV_HASH_MISMATCH)', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    await app.db.pool.query('UPDATE "Signal" SET hash = $2 WHERE id = $1', [signals[2]!.id, 'f'.repeat(64)]);
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    const problems = r.body.chain.problems.map((p: { seq: number; problem: string }) => `${p.seq}:${p.problem}`);
    assert.deepEqual(problems, [`${signals[2]!.seq}:HASH_MISMATCH`, `${signals[3]!.seq}:PREV_HASH_MISMATCH`]);
  });

  it('when the last signal is deleted in the database, reports HEAD_MISMATCH; a deleted middle signal breaks its successor', async () => {
    const tail = await strategyWithHistory();
    await app.db.pool.query('DELETE FROM "Trade" WHERE "openSignalId" = $1', [tail.signals[4]!.id]);
    await app.db.pool.query('DELETE FROM "Signal" WHERE id = $1', [tail.signals[4]!.id]);
    const r1 = await api.get(`/api/strategies/${tail.strategyId}/verify`);
    assert.equal(r1.body.ok, false);
    assert.deepEqual(r1.body.chain.problems.map((p: { problem: string }) => p.problem), ['HEAD_MISMATCH']);

    const mid = await strategyWithHistory();
    await app.db.pool.query('DELETE FROM "Trade" WHERE "openSignalId" = $1', [mid.signals[2]!.id]);
    await app.db.pool.query('DELETE FROM "Signal" WHERE id = $1', [mid.signals[2]!.id]);
    const r2 = await api.get(`/api/strategies/${mid.strategyId}/verify`);
    assert.ok(r2.body.chain.problems.some((p: { seq: number; problem: string }) => p.seq === mid.signals[3]!.seq && p.problem === 'PREV_HASH_MISMATCH'));
  });

  it('when a Trade row exit market price is rewritten, the chain is intact but the published stats do not match the signals', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    await app.db.pool.query('UPDATE "Trade" SET "exitMarketPrice" = 120 WHERE "closeSignalId" = $1', [signals[3]!.id]);
    const r = await api.get(`/api/strategies/${strategyId}/verify`);
    assert.equal(r.body.chain.ok, true);
    assert.equal(r.body.statsMatch, false);
    assert.equal(r.body.ok, false);
    assert.deepEqual(r.body.reasons, ['STATS_MISMATCH']);
    assert.deepEqual(r.body.recomputed, trackStats([10, -5]));
    assert.deepEqual(r.body.published, trackStats([10, 40]));
  });

  it('offers no API to edit or delete a signal (404), and 404s an unknown strategy', async () => {
    const { strategyId, signals } = await strategyWithHistory();
    const { author } = await seedStrategy(app);
    for (const method of ['PATCH', 'PUT', 'DELETE']) {
      const res = await fetch(`${app.url}/api/signals/${signals[0]!.id}`, { method, headers: { authorization: `Bearer ${author.token}`, 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{"price":1}' });
      assert.equal(res.status, 404, method);
    }
    assert.equal((await api.get(`/api/strategies/${strategyId}/verify`)).body.ok, true);
    assert.equal((await api.get(`/api/strategies/${randomUUID()}/verify`)).status, 404);
    assert.equal((await api.get('/api/strategies/nope/verify')).body.error.code, 'STRATEGY_NOT_FOUND');
  });
});
