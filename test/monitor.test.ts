/**
 * Trade monitor against the fake Binance (real ccxt fetchTickers) and real PostgreSQL, in a database of
 * its own (see monitor-support.ts). The kill -9 restart test is in monitor-restart.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { App } from '../src/app.js';
import { TriggerBook, type WatchedTrade } from '../src/monitor/index.js';
import { client, seedStrategy, startTestApp } from './support/app.js';
import type { FakeBinance } from './support/fake-exchange.js';
import { closeSignals, listedIn, MONITOR_DB_URL, MONITOR_ENV, monitorOf, newPair, openTrade, useMonitorSuite, waitFor } from './monitor-support.js';

describe('trade monitor (fake exchange, real PostgreSQL)', function () {
  this.timeout(60_000);
  const suite = useMonitorSuite({ ROLES: 'api,store,monitor', ...MONITOR_ENV });
  let fake: FakeBinance;
  let app: App;
  let db: pg.Pool;
  before(() => { ({ fake, app, db } = suite); });

  const open = (a: App, pair: string, direction: 'LONG' | 'SHORT', price: number, stopLoss?: number, takeProfit?: number, strategyId?: string) =>
    openTrade(a, db, pair, direction, price, stopLoss, takeProfit, strategyId);
  const trade = async (id: string) => (await db.query(`SELECT status, "exitPrice"::float8 AS "exitPrice", "pnlPct"::float8 AS "pnlPct", "closeReason", "closeSignalId" FROM "Trade" WHERE id = $1`, [id])).rows[0];
  const completed = (id: string) => waitFor(`trade ${id} completed`, async () => { const t = await trade(id); return t.status === 'COMPLETED' && t; });
  const closeSignalsOf = (strategyId: string, pair: string) => closeSignals(db, strategyId, pair);
  /** Waits until the monitor watches the trade and has priced its pair after it opened. */
  const watched = (a: App, tradeId: string, pair: string) => waitFor('trade watched and priced', () => {
    const m = monitorOf(a);
    const t = m.book.get(tradeId);
    return !!t && (m.feed.price(pair)?.receivedAt ?? 0) > t.openedAt;
  });

  it('when the price crosses the take profit of a LONG, closes it at the level with source monitor and the right PnL, in the DB and the JSON store', async () => {
    const pair = newPair(fake, 100);
    const { strategyId, tradeId } = await open(app, pair, 'LONG', 100, 90, 110);
    await watched(app, tradeId, pair);
    fake.setPrice(pair, 111.5);
    const t = await completed(tradeId);
    assert.equal(t.closeReason, 'TAKE_PROFIT');
    assert.equal(t.exitPrice, 110);
    assert.equal(t.pnlPct, 10);
    assert.deepEqual(await closeSignalsOf(strategyId, pair), [{ source: 'monitor', reason: 'TAKE_PROFIT', price: 110, idempotencyKey: `monitor:${tradeId}` }]);
    // The CLOSE is priced at the level; the price the feed saw is stored beside it as the market price.
    const { rows: [priced] } = await db.query(`SELECT s."marketPrice"::float8 AS signal, t."exitMarketPrice"::float8 AS trade FROM "Signal" s JOIN "Trade" t ON t."closeSignalId" = s.id WHERE t.id = $1`, [tradeId]);
    assert.deepEqual(priced, { signal: 111.5, trade: 111.5 });
    const json = await waitFor('completed_trades.json has the trade', () => {
      const list = JSON.parse(readFileSync(path.join(app.config.dataDir, 'signals', 'completed_trades.json'), 'utf8')) as { id: string; closeReason: string; pnlPct: number }[];
      return list.find((x) => x.id === tradeId);
    });
    assert.equal(json.closeReason, 'TAKE_PROFIT');
    assert.equal(json.pnlPct, 10);
    assert.equal(monitorOf(app).book.has(tradeId), false);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /monitor_closes_total\{reason="TAKE_PROFIT",outcome="closed"\} [1-9]/);
  });

  it('when the price rises through the stop loss of a SHORT, closes it at the stop loss with a loss', async () => {
    const pair = newPair(fake, 200);
    const { strategyId, tradeId } = await open(app, pair, 'SHORT', 200, 210, 180);
    await watched(app, tradeId, pair);
    fake.setPrice(pair, 204); // between the levels: still open
    await waitFor('price 204 seen', () => monitorOf(app).feed.price(pair)?.last === 204);
    assert.equal((await trade(tradeId)).status, 'ACTIVE');
    fake.setPrice(pair, 213);
    const t = await completed(tradeId);
    assert.equal(t.closeReason, 'STOP_LOSS');
    assert.equal(t.exitPrice, 210);
    assert.equal(t.pnlPct, -5);
    assert.equal((await closeSignalsOf(strategyId, pair)).length, 1);
  });

  it('when one poll shows a gap through both levels (new 24h low and high), closes at the level nearer the previous price', async () => {
    const pairA = newPair(fake, 100);
    const pairB = newPair(fake, 100);
    const a = await open(app, pairA, 'LONG', 100, 95, 110); // stop loss 5 away from 100, take profit 10
    const b = await open(app, pairB, 'LONG', 100, 90, 103); // take profit 3 away, stop loss 10
    await watched(app, a.tradeId, pairA);
    await watched(app, b.tradeId, pairB);
    // Between two polls each price dives under the stop loss and jumps over the take profit, ending in between.
    for (const p of [pairA, pairB]) { fake.setPrice(p, 80); fake.setPrice(p, 120); fake.setPrice(p, 101); }
    const ta = await completed(a.tradeId);
    const tb = await completed(b.tradeId);
    assert.deepEqual([ta.closeReason, ta.exitPrice, ta.pnlPct], ['STOP_LOSS', 95, -5]);
    assert.deepEqual([tb.closeReason, tb.exitPrice, tb.pnlPct], ['TAKE_PROFIT', 103, 3]);
  });

  it('when the author CLOSE and the monitor close race, each trade is completed once by one CLOSE and a losing monitor counts it as already closed', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const api = client(app);
    const pairs = await Promise.all([1, 2, 3, 4].map(() => newPair(fake, 100)));
    await listedIn(app, ...pairs);
    const trades = [];
    for (const pair of pairs) {
      const r = await api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100, stopLoss: 90, takeProfit: 110 }, author.token);
      assert.equal(r.status, 201);
      trades.push((await db.query(`SELECT id FROM "Trade" WHERE "openSignalId" = $1`, [r.body.id])).rows[0].id as string);
    }
    for (const [i, pair] of pairs.entries()) await watched(app, trades[i]!, pair);
    const m = monitorOf(app);
    const alreadyBefore = await closesCounter(app, 'already_closed');
    for (const p of pairs) fake.setPrice(p, 115);
    const [authorAnswers] = await Promise.all([
      Promise.all(pairs.map((pair) => api.post('/api/signals', { strategyId, pair, action: 'CLOSE', direction: 'LONG', price: 114 }, author.token))),
      m.feed.pollOnce(),
    ]);
    await m.closer.idle();
    let authorWins = 0;
    for (const [i, pair] of pairs.entries()) {
      const t = await completed(trades[i]!);
      const closes = await closeSignalsOf(strategyId, pair);
      assert.equal(closes.length, 1, `one CLOSE signal on ${pair}`);
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM "Trade" WHERE "strategyId" = $1 AND pair = $2`, [strategyId, pair])).rows[0].n, 1);
      const authorWon = closes[0].source === 'api';
      if (authorWon) authorWins++;
      // The author gets 201 only if its CLOSE is the one stored. Losing, it is answered either 409 NO_OPEN_TRADE
      // or, inside the dedup window, as a repeat of the monitor's CLOSE (200 with that signal) — never a 500.
      const answer = authorAnswers[i]!;
      if (authorWon) assert.equal(answer.status, 201);
      else if (answer.status === 200) assert.deepEqual([answer.body.source, answer.body.idempotencyKey], ['monitor', closes[0].idempotencyKey]);
      else assert.deepEqual([answer.status, answer.body.error?.code], [409, 'NO_OPEN_TRADE']);
      assert.equal(t.closeReason, authorWon ? 'SIGNAL' : 'TAKE_PROFIT');
    }
    // Every pair the author won was answered to the monitor as already closed.
    assert.equal(await closesCounter(app, 'already_closed') - alreadyBefore, authorWins);
  });

  it('with two monitor processes watching the same trade, the crossing produces exactly one CLOSE', async () => {
    const second = await startTestApp({ DATABASE_URL: MONITOR_DB_URL, ROLES: 'monitor', EXCHANGE_URL_BINANCE: fake.origin, ...MONITOR_ENV });
    try {
      const pair = newPair(fake, 50);
      const { strategyId, tradeId } = await open(app, pair, 'LONG', 50, 45, 55);
      await watched(app, tradeId, pair);
      await watched(second, tradeId, pair);
      fake.setPrice(pair, 56);
      await completed(tradeId);
      await Promise.all([monitorOf(app).closer.idle(), monitorOf(second).closer.idle()]);
      await waitFor('both monitors dropped the trade', () => !monitorOf(app).book.has(tradeId) && !monitorOf(second).book.has(tradeId));
      assert.equal((await closeSignalsOf(strategyId, pair)).length, 1);
    } finally { await second.stop(); }
  });

  it('a late trigger for a trade that was closed and replaced never closes the newer trade on the same pair', async () => {
    const pair = newPair(fake, 100);
    const first = await open(app, pair, 'LONG', 100, 90, 110);
    const stale = await waitFor('trade watched', () => monitorOf(app).book.get(first.tradeId));
    await app.coordinator.accept({ strategyId: first.strategyId, pair, action: 'CLOSE', price: 101 }, 'api');
    await app.coordinator.accept({ strategyId: first.strategyId, pair, action: 'OPEN', direction: 'LONG', price: 102, stopLoss: 90, takeProfit: 130 }, 'api');
    const m = monitorOf(app);
    m.closer.enqueue({ trade: stale, reason: 'TAKE_PROFIT', exitPrice: 110, observedPrice: 111 });
    await m.closer.idle();
    const { rows } = await db.query(`SELECT status FROM "Trade" WHERE "strategyId" = $1 AND pair = $2 ORDER BY "openSeq"`, [first.strategyId, pair]);
    assert.deepEqual(rows.map((r) => r.status), ['COMPLETED', 'ACTIVE']);
    assert.equal((await closeSignalsOf(first.strategyId, pair)).length, 1);
  });

  it('GET /api/monitor/strategies/:id/open-trades shows each open trade with its last price and distance to stop loss and take profit', async () => {
    const pair = newPair(fake, 100);
    const { strategyId, tradeId } = await open(app, pair, 'LONG', 100, 90, 120);
    await watched(app, tradeId, pair);
    const r = await client(app).get(`/api/monitor/strategies/${strategyId}/open-trades`);
    assert.equal(r.status, 200);
    assert.equal(r.body.trades.length, 1);
    const t = r.body.trades[0];
    assert.deepEqual([t.tradeId, t.lastPrice, t.distanceToStopLossPct, t.distanceToTakeProfitPct, t.monitored], [tradeId, 100, 10, 20, true]);
    assert.equal((await client(app).get(`/api/monitor/strategies/${randomUUID()}/open-trades`)).status, 404);
  });

  it('an api process without the monitor shows the last prices a monitor process shares through Redis', async () => {
    const shared = { DATABASE_URL: MONITOR_DB_URL, EXCHANGE_URL_BINANCE: fake.origin, REDIS_PREFIX: `smtest:${randomUUID().slice(0, 8)}:`, ...MONITOR_ENV };
    const mon = await startTestApp({ ...shared, ROLES: 'monitor' }, { redis: true });
    const api = await startTestApp({ ...shared, ROLES: 'api' }, { redis: true });
    try {
      const pair = newPair(fake, 100);
      const { strategyId, tradeId } = await open(app, pair, 'SHORT', 100, 104, 95);
      await watched(mon, tradeId, pair);
      fake.setPrice(pair, 98);
      const body = await waitFor('price 98 shared', async () => {
        const r = await client(api).get(`/api/monitor/strategies/${strategyId}/open-trades`);
        return r.body.trades?.[0]?.lastPrice === 98 && r.body;
      });
      assert.deepEqual([body.trades[0].distanceToStopLossPct, body.trades[0].distanceToTakeProfitPct], [6.122449, 3.061224]);
    } finally { await api.stop(); await mon.stop(); }
  });

  it('the trigger book stays flat under open/close churn (stale heap entries are compacted)', () => {
    const book = new TriggerBook();
    const mk = (i: number): WatchedTrade => ({ id: `t${i}`, strategyId: `s${i % 50}`, pair: 'X/USDT', direction: i % 2 ? 'LONG' : 'SHORT', entryPrice: 100, stopLoss: i % 2 ? 90 : 110, takeProfit: i % 2 ? 110 : 90, openSeq: i, openedAt: 0 });
    let peak = 0;
    for (let i = 0; i < 20_000; i++) {
      book.add(mk(i)); // replaces the strategy's previous trade on the pair (it must have closed)
      if (i % 3 === 0) book.remove(`t${i}`);
      peak = Math.max(peak, book.entryCount());
    }
    assert.ok(book.size <= 50, `live trades ${book.size}`);
    assert.ok(peak < 400, `heap entries peaked at ${peak}`);
    // 111 is over every LONG take profit and every SHORT stop loss: all live trades fire, nothing is left.
    const live = book.size;
    const hits = book.evaluate({ pair: 'X/USDT', last: 111, high: 111, low: 111, prev: 100, prevAt: 1 });
    assert.equal(hits.length, live);
    assert.ok(hits.every((h) => (h.trade.direction === 'LONG' ? h.reason === 'TAKE_PROFIT' : h.reason === 'STOP_LOSS')));
    assert.deepEqual([book.size, book.entryCount()], [0, 0]);
  });
});

/** monitor_closes_total summed over reasons for one outcome, from /metrics. */
async function closesCounter(app: App, outcome: string): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^monitor_closes_total\\{reason="[A-Z_]+",outcome="${outcome}"\\} (\\d+)`, 'gm'))) n += Number(m[1]);
  return n;
}
