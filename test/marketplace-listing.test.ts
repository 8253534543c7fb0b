/**
 * Issue 21 item 3: the marketplace list sorts on every column both ways, filters (pair, trades, age),
 * searches (name, description, author), pages with a total (2,000 strategies: every one exactly once),
 * computes period returns at market prices (never declared ones) and answers bad parameters with 400.
 * The strategy page's API: monthly returns, closed trades page by page, open trades' unrealised PnL from
 * the reference price feed (the monitor's shared prices) and "price unavailable" when none is fresh.
 * Every list query carries this file's random tag (q=) or ids, so strategies of other tests never mix in.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { MONITOR_TOPICS } from '../src/monitor/index.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';

const DAY = 86_400_000;
const tag = () => `t${randomBytes(5).toString('hex')}`;
/** [declared open, declared close, market open, market close (null: not verified), days ago closed]. */
type Trip = [number, number, number, number | null, number];

describe('marketplace list API: sort, filter, search, pages, period returns; strategy trades', function () {
  this.timeout(120_000);
  let app: App;
  let api: ReturnType<typeof client>;
  const T = tag();
  const ids: Record<string, string> = {};
  const authors: Record<string, string> = {};

  /** A strategy named `${T} ${name}` whose round trips close `daysAgo` days ago, one hour long, at the given market prices. */
  async function strategy(name: string, pairs: string[], pair: string, trips: Trip[], extra: Record<string, unknown> = {}) {
    const s = await seedStrategy(app, { name: `${T} ${name}`, pairs, ...extra });
    const market = new Map<string, number | null>();
    const closes: [string, number][] = [];
    for (const [dOpen, dClose, mOpen, mClose, daysAgo] of trips) {
      for (const [action, price, m] of [['OPEN', dOpen, mOpen], ['CLOSE', dClose, mClose]] as const) {
        const r = await api.post('/api/signals', { strategyId: s.strategyId, pair, action, direction: 'LONG', price }, s.author.token);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        market.set(r.body.id, m);
        if (action === 'CLOSE') closes.push([r.body.id, daysAgo]);
      }
    }
    await setMarketPrices(app, s.strategyId, market);
    for (const [closeId, daysAgo] of closes) {
      const at = new Date(Date.now() - daysAgo * DAY);
      await app.db.pool.query('UPDATE "Trade" SET "closedAt" = $2, "openedAt" = $3 WHERE "closeSignalId" = $1', [closeId, at, new Date(at.getTime() - 3_600_000)]);
    }
    ids[name] = s.strategyId;
    authors[name] = s.author.user.email.split('@')[0]!;
    return s;
  }

  before(async () => {
    app = await startTestApp({}, { redis: true });
    api = client(app);
    await strategy('alpha', ['ADA/USDT'], 'ADA/USDT', [[100, 150, 100, 110, 60], [100, 130, 100, 95, 3]]);
    await strategy('bravo', ['BTC/USDT'], 'BTC/USDT', [[100, 90, 100, 102, 200], [100, 90, 100, 103, 150], [100, 120, 100, 99, 120]], { description: `momentum ${T}desc` });
    await strategy('charlie', [], 'LTC/USDT', []);
    await strategy('delta', ['ETH/USDT'], 'ETH/USDT', [[100, 100, 100, 80, 10], [100, 200, 100, null, 5]]);
    await strategy('echo', ['XRP/USDT'], 'XRP/USDT', [[100, 105, 100, 105, 20], [100, 105, 100, 105, 2]]);
    const fox = await strategy('foxtrot', ['DOT/USDT', 'NEAR/USDT', 'ZEC/USDT'], 'DOT/USDT', [[10, 9, 10, 9.7, 40], [10, 11, 10, 10.8, 30], [10, 9, 10, 9.8, 1]]);
    await strategy('golf', [], 'SOL/USDT', [[100, 100, 100, 101, 1]]);
    // foxtrot: three open trades (market entry 10 on DOT, 20 on NEAR, none on ZEC).
    const open = new Map<string, number | null>();
    for (const [pair, price, m] of [['DOT/USDT', 12, 10], ['NEAR/USDT', 20, 20], ['ZEC/USDT', 30, null]] as const) {
      const r = await api.post('/api/signals', { strategyId: fox.strategyId, pair, action: 'OPEN', direction: 'LONG', price }, fox.author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      open.set(r.body.id, m);
    }
    await setMarketPrices(app, fox.strategyId, open);
    await app.db.pool.query('UPDATE "Strategy" SET "createdAt" = now() - interval \'100 days\' WHERE id = $1', [ids.alpha]);
    await app.db.pool.query('UPDATE "Strategy" SET "createdAt" = now() - interval \'300 days\' WHERE id = $1', [ids.bravo]);
    for (const name of ['bravo', 'bravo', 'echo']) {
      const user = await registerUser(app);
      const r = await api.post('/api/subscriptions', { strategyId: ids[name], exchange: 'binance', sizing: { mode: 'quote', amount: 50 } }, user.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(async () => { await app?.stop(); });

  const list = async (params: Record<string, string | number>) => {
    const r = await api.get(`/api/strategies?${new URLSearchParams({ q: T, limit: '100', ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) })}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const names = (body: { strategies: { name: string }[] }) => body.strategies.map((s) => s.name.slice(T.length + 1));

  /** The value a row shows for each sort column (null: shown as a dash). */
  type Row = { name: string; author: string | null; pairs: string[]; createdAt: string; stats: Record<string, number | null>; periodReturnPct: number | null; verifiedShare: number | null; subscribers: number };
  const has = (r: Row) => r.stats.trades! > 0;
  const shown: Record<string, (r: Row) => string | number | null> = {
    created: (r) => Date.parse(r.createdAt), name: (r) => r.name.toLowerCase(), author: (r) => r.author, pairs: (r) => r.pairs.join(','),
    trades: (r) => r.stats.trades!, winRate: (r) => r.stats.winRate!, totalPnl: (r) => (has(r) ? r.stats.totalPnlPct! : null),
    return: (r) => r.periodReturnPct, avgPnl: (r) => r.stats.avgPnlPct!, maxDrawdown: (r) => (has(r) ? r.stats.maxDrawdownPct! : null),
    sharpe: (r) => r.stats.sharpe!, sortino: (r) => r.stats.sortino!, verifiedShare: (r) => r.verifiedShare, subscribers: (r) => r.subscribers,
  };

  it('sorts on every column both ways: values in order, strategies without a value last, and each column tells the strategies apart', async () => {
    for (const [col, value] of Object.entries(shown)) {
      for (const order of ['asc', 'desc'] as const) {
        const body = await list({ sort: col, order, period: '90d' });
        assert.equal(body.total, 7);
        assert.deepEqual([body.sort, body.order], [col, order]);
        const vals = (body.strategies as Row[]).map(value);
        const firstNull = vals.indexOf(null);
        if (firstNull >= 0) assert.ok(vals.slice(firstNull).every((v) => v === null), `${col} ${order}: nulls last: ${JSON.stringify(vals)}`);
        const set = vals.filter((v) => v !== null);
        assert.ok(new Set(set).size >= 2, `${col}: the data tells at least two strategies apart: ${JSON.stringify(vals)}`);
        for (let i = 1; i < set.length; i++) {
          const ok = order === 'asc' ? set[i - 1]! <= set[i]! : set[i - 1]! >= set[i]!;
          assert.ok(ok, `${col} ${order} at ${i}: ${JSON.stringify(vals)} (${names(body).join(', ')})`);
        }
      }
    }
  });

  it('sorts by total PnL at market prices, not by the declared record', async () => {
    // Declared: alpha +50 % and +30 % (+95 %), bravo -10 % -10 % +20 % (-2.8 %); at the market alpha +4.5 %, bravo +4.0094 %.
    assert.deepEqual(names(await list({ sort: 'totalPnl', order: 'desc' })), ['echo', 'alpha', 'bravo', 'foxtrot', 'golf', 'delta', 'charlie']);
    assert.deepEqual(names(await list({ sort: 'trades', order: 'desc' })).slice(0, 2).sort(), ['bravo', 'foxtrot']);
    assert.deepEqual(names(await list({ sort: 'name' })), ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf']);
    assert.deepEqual(names(await list({ sort: 'subscribers' })).slice(0, 2), ['bravo', 'echo']);
  });

  it('a trade closing after a sorted page was served reorders the next page at once (the kept aggregates follow the close)', async () => {
    const K = tag();
    const first = await seedStrategy(app, { name: `${K} first`, pairs: ['SOL/USDT'] });
    const second = await seedStrategy(app, { name: `${K} second`, pairs: ['SOL/USDT'] });
    const trip = async (s: typeof first, exit: number) => {
      const market = new Map<string, number>();
      for (const [action, price] of [['OPEN', 100], ['CLOSE', exit]] as const) {
        const r = await api.post('/api/signals', { strategyId: s.strategyId, pair: 'SOL/USDT', action, direction: 'LONG', price }, s.author.token);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        market.set(r.body.id, price);
      }
      await setMarketPrices(app, s.strategyId, market);
    };
    const order = async () => (await api.get(`/api/strategies?q=${K}&sort=totalPnl`)).body.strategies.map((x: { name: string }) => x.name.split(' ')[1]);
    await trip(first, 110);
    assert.deepEqual(await order(), ['first', 'second'], 'second has no trade yet: last');
    await trip(second, 130);
    assert.deepEqual(await order(), ['second', 'first'], '+30 % now before +10 %, without waiting');
  });

  it('period returns compound the trades closed in the period at market prices; the sparkline ends at the return', async () => {
    const alpha = async (period: string) => (await list({ period, ids: ids.alpha! })).strategies[0];
    const expected: Record<string, number> = { '7d': -5, '30d': -5, '90d': 4.5, all: 4.5 };
    for (const [period, pct] of Object.entries(expected)) {
      const a = await alpha(period);
      assert.equal(a.periodReturnPct, pct, period);
      assert.equal(a.sparkline.length, 31);
      assert.equal(a.sparkline[0], 100);
      assert.equal(a.sparkline.at(-1), 100 + pct);
    }
    // 90 d: +10 % then -5 % (the first 30 points hold 110 from day 60 on).
    assert.ok((await alpha('90d')).sparkline.includes(110));
    const b = (await list({ period: '90d', ids: ids.bravo! })).strategies[0];
    assert.equal(b.periodReturnPct, 0, 'trades, none closed in the period');
    assert.equal((await list({ ids: ids.charlie! })).strategies[0].periodReturnPct, null, 'no trades: no return');
    assert.deepEqual((await list({ ids: ids.charlie! })).strategies[0].sparkline, []);
    assert.deepEqual(names(await list({ sort: 'return', period: '7d' })).slice(0, 2), ['echo', 'golf']);
    assert.deepEqual(names(await list({ sort: 'return', period: '7d' })).slice(-3), ['foxtrot', 'alpha', 'charlie']);
  });

  it('filters by pair (listed or traded), minimum verified trades and age, and searches name, description and author', async () => {
    assert.deepEqual(names(await list({ pair: 'ada/usdt' })), ['alpha']);
    assert.deepEqual(names(await list({ pair: 'SOL/USDT' })), ['golf'], 'golf lists no pair but traded SOL');
    assert.deepEqual(names(await list({ minTrades: 3, sort: 'name' })), ['bravo', 'foxtrot']);
    assert.deepEqual(names(await list({ minTrades: 1, sort: 'name' })), ['alpha', 'bravo', 'delta', 'echo', 'foxtrot', 'golf'], 'delta: one verified trade counts');
    assert.deepEqual(names(await list({ minAgeDays: 50, sort: 'name' })), ['alpha', 'bravo']);
    assert.deepEqual(names(await list({ minAgeDays: 50, maxAgeDays: 200 })), ['alpha']);
    assert.equal((await list({ maxAgeDays: 50 })).total, 5);
    const only = async (q: string) => { const r = await api.get(`/api/strategies?q=${encodeURIComponent(q)}`); assert.equal(r.status, 200); return r.body.strategies.map((s: { id: string }) => s.id); };
    assert.deepEqual(await only(`${T}DESC`), [ids.bravo], 'description, case-insensitive');
    assert.deepEqual(await only(authors.echo!.toUpperCase()), [ids.echo], 'author name');
    assert.deepEqual(await only(`${T} golf`), [ids.golf], 'name');
    assert.deepEqual(await only(`${T}%`), [], '% is a literal, not a wildcard');
    assert.deepEqual(await only(`${T}_alpha`), [], '_ is a literal, not a wildcard');
  });

  it('pages: limit 2 over 7 strategies gives 4 pages holding each strategy once, with the total on every page', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 4; page++) {
      const body = await list({ sort: 'sharpe', limit: 2, page });
      assert.deepEqual([body.total, body.pages, body.page, body.limit], [7, 4, page, 2]);
      seen.push(...names(body));
    }
    assert.deepEqual(seen, names(await list({ sort: 'sharpe' })));
    const past = await list({ limit: 2, page: 9, minTrades: 1 });
    assert.deepEqual([past.strategies.length, past.total], [0, 6], 'past the end: an empty page, still the total');
  });

  it('answers bad parameters with 400 VALIDATION_FAILED naming the parameter', async () => {
    const bad: [string, RegExp][] = [
      ['sort=bogus', /^sort:/], ['order=up', /^order:/], ['page=0', /^page:/], ['limit=1000', /^limit:/], ['limit=abc', /^limit:/],
      ['period=1y', /^period:/], ['minTrades=-1', /^minTrades:/], ['minAgeDays=9&maxAgeDays=2', /^minAgeDays: minAgeDays must not exceed maxAgeDays/],
      ['pair=btc', /^pair: must look like BASE\/QUOTE/], ['ids=not-a-uuid', /^ids:/], [`q=${'x'.repeat(101)}`, /^q:/], ['sortt=name', /sortt/], ['sort=name&sort=trades', /^sort:/],
    ];
    for (const [qs, message] of bad) {
      const r = await api.get(`/api/strategies?${qs}`);
      assert.equal(r.status, 400, qs);
      assert.equal(r.body.error.code, 'VALIDATION_FAILED', qs);
      assert.match(r.body.error.message, message, qs);
    }
  });

  it('strategy detail: monthly returns at market prices, closed trades with durations, open trades with unrealised PnL or "price unavailable"', async () => {
    await app.db.pool.query(`UPDATE "Trade" SET "closedAt" = v.at::timestamptz, "openedAt" = v.at::timestamptz - interval '2 hours'
      FROM (VALUES (102, '2026-01-15T10:00:00Z'), (103, '2026-01-20T10:00:00Z'), (99, '2026-03-02T10:00:00Z')) v(m, at)
      WHERE "strategyId" = $1 AND "exitMarketPrice" = v.m`, [ids.bravo]);
    const b = (await api.get(`/api/strategies/${ids.bravo}`)).body;
    assert.deepEqual(b.monthlyReturns, [{ year: 2026, month: 1, returnPct: 5.06, trades: 2 }, { year: 2026, month: 3, returnPct: -1, trades: 1 }]);
    assert.ok(b.closedTrades.every((t: { durationSeconds: number }) => t.durationSeconds === 7200));

    const page1 = await api.get(`/api/strategies/${ids.foxtrot}/closed-trades?limit=2`);
    const page2 = await api.get(`/api/strategies/${ids.foxtrot}/closed-trades?limit=2&page=2`);
    assert.deepEqual([page1.body.total, page1.body.pages, page1.body.trades.length, page2.body.trades.length], [3, 2, 2, 1]);
    assert.deepEqual([...page1.body.trades, ...page2.body.trades].map((t: { pnlPct: number }) => t.pnlPct), [-2, 8, -3], 'newest first, at market prices');
    assert.deepEqual(page1.body.trades[0].durationSeconds, 3600);
    assert.equal((await api.get(`/api/strategies/${ids.foxtrot}/closed-trades?limit=0`)).status, 400);
    assert.equal((await api.get(`/api/strategies/${randomUUID()}/closed-trades`)).status, 404);

    // The monitor shares its poll: DOT fresh at 11, NEAR 10 minutes old (stale), ZEC has no market entry price.
    const now = Date.now();
    await app.bus.publish(MONITOR_TOPICS.prices, { exchange: app.config.monitor.exchange, at: now, prices: { 'DOT/USDT': 11 } });
    await app.bus.publish(MONITOR_TOPICS.prices, { exchange: app.config.monitor.exchange, at: now - 600_000, prices: { 'NEAR/USDT': 25 } });
    let open: Record<string, { unrealisedPnlPct: number | null; unrealisedStatus: string; lastPrice: number | null }> = {};
    for (let i = 0; i < 100; i++) {
      const d = (await api.get(`/api/strategies/${ids.foxtrot}`)).body;
      open = Object.fromEntries(d.openTrades.map((t: { pair: string }) => [t.pair, t]));
      if (open['DOT/USDT']?.unrealisedStatus === 'OK') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual([open['DOT/USDT']!.unrealisedStatus, open['DOT/USDT']!.unrealisedPnlPct, open['DOT/USDT']!.lastPrice], ['OK', 10, 11], 'from the market entry 10, not the declared 12');
    assert.deepEqual([open['NEAR/USDT']!.unrealisedStatus, open['NEAR/USDT']!.unrealisedPnlPct, open['NEAR/USDT']!.lastPrice], ['PRICE_UNAVAILABLE', null, null]);
    assert.deepEqual([open['ZEC/USDT']!.unrealisedStatus, open['ZEC/USDT']!.unrealisedPnlPct], ['ENTRY_NOT_VERIFIED', null]);
  });

  it('2,000 strategies: every page of 100 in PnL order and in creation order holds each strategy exactly once, totals agree', async () => {
    const B = tag();
    await app.db.pool.query(`INSERT INTO "Strategy" (id, name, description, "createdAt")
      SELECT gen_random_uuid(), $1 || ' ' || i, '', now() - (i % 7) * interval '1 day' FROM generate_series(1, 2000) i`, [B]);
    // Two thirds of them with 1 to 5 closed trades at market prices from 90 to 110 (many equal records: ties).
    await app.db.pool.query(`INSERT INTO "Trade" (id, "strategyId", pair, direction, status, "entryPrice", "openSignalId", "openSeq", "openedAt", "exitPrice", "closeSeq", "closedAt", "entryMarketPrice", "exitMarketPrice")
      SELECT gen_random_uuid(), s.id, 'BTC/USDT', 'LONG', 'COMPLETED', 100, gen_random_uuid(), 0, now() - interval '3 days', 100, j, now() - j * interval '1 hour',
        100, 90 + ((n * 7 + j * 13) % 21)
      FROM (SELECT id, substring(name from '[0-9]+$')::int AS n FROM "Strategy" WHERE name LIKE $1 || ' %') s, generate_series(1, 5) j
      WHERE s.n % 3 <> 0 AND j <= s.n % 5 + 1`, [B]);
    // Fresh planner statistics, as autovacuum keeps them after a bulk change (see listing.ts).
    await app.db.pool.query('ANALYZE "Strategy"; ANALYZE "Trade"');
    try {
      await pageThrough(B);
    } finally {
      // These rows came from no signal: removed again, so that later apps on this database do not rebuild
      // their JSON store with 4,000 extra trades (the store snapshots every completed trade at start).
      await app.db.pool.query('DELETE FROM "Trade" WHERE "strategyId" IN (SELECT id FROM "Strategy" WHERE name LIKE $1 || \' %\')', [B]);
      await app.db.pool.query('DELETE FROM "Strategy" WHERE name LIKE $1 || \' %\'', [B]);
    }
  });

  async function pageThrough(B: string) {
    for (const sort of ['totalPnl', 'created']) {
      const seen = new Set<string>();
      const values: (number | null)[] = [];
      for (let page = 1; page <= 20; page++) {
        const r = await api.get(`/api/strategies?q=${B}&sort=${sort}&limit=100&page=${page}`);
        assert.equal(r.status, 200);
        assert.deepEqual([r.body.total, r.body.pages, r.body.strategies.length], [2000, 20, 100], `${sort} page ${page}`);
        for (const s of r.body.strategies as Row[]) { seen.add((s as unknown as { id: string }).id); values.push(shown[sort]!(s) as number | null); }
      }
      assert.equal(seen.size, 2000, `${sort}: no strategy twice, none missing`);
      const set = values.filter((v) => v !== null) as number[];
      assert.ok(set.every((v, i) => i === 0 || set[i - 1]! >= v), `${sort}: descending across pages`);
      assert.equal(values.indexOf(null) === -1 ? set.length : values.indexOf(null), set.length, 'nulls only at the end');
    }
  }
});
