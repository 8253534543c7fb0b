/**
 * Signal acceptance safety (issue 16 items 1, 3, 5, 12, 13): prices checked against the reference market,
 * declared and listed pairs, TradingView tickers mapped against the market list, future times and
 * non-numeric prices refused, no 500 on a huge PnL, and a webhook that strangers cannot block.
 * Reference prices come from the fake Binance (real ccxt) through the trade monitor's price feed, in the
 * monitor's own database (monitor-support.ts), so other suites' trades are never polled.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { App } from '../src/app.js';
import type { Request } from 'express';
import { MarketList } from '../src/signals/reference.js';
import { badSecretKey } from '../src/signals/routes.js';
import { tickerToPair } from '../src/signals/tradingview.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { FakeBinance, type MarketSpec } from './support/fake-exchange.js';
import { MONITOR_DB_URL, MONITOR_ENV, monitorDatabase, waitFor } from './monitor-support.js';

/** A market of its own, listed on the fake exchange from its start (so it is in the first market list). */
const market = (price: number, quote = 'USDT'): MarketSpec & { pair: string } => {
  const base = `S${randomBytes(3).toString('hex').toUpperCase()}`;
  return { base, quote, price, tickSize: '0.0001', stepSize: '0.001', minQty: '0.001', minNotional: '1', pair: `${base}/${quote}` };
};

const open = (pair: string, price: number, extra: Record<string, unknown> = {}) => ({ pair, action: 'OPEN', direction: 'LONG', price, ...extra });

describe('signal acceptance: prices, pairs and tickers against the reference market', function () {
  this.timeout(60_000);
  const m = { band: market(60), stored: market(200), fresh: market(10), declared: market(50), dot: { ...market(5, 'USD'), base: 'DOT', pair: 'DOT/USD' } };
  let fake: FakeBinance;
  let app: App;
  let db: pg.Pool;
  let api: ReturnType<typeof client>;

  before(async () => {
    await monitorDatabase();
    fake = new FakeBinance({ weightLimitPerMinute: 1_000_000, markets: Object.values(m) });
    await fake.start();
    db = new pg.Pool({ connectionString: MONITOR_DB_URL, max: 2 });
    app = await startTestApp({ DATABASE_URL: MONITOR_DB_URL, ROLES: 'api,store,monitor', EXCHANGE_URL_BINANCE: fake.origin, ...MONITOR_ENV });
    api = client(app);
    await waitFor('reference market list loaded', () => app.reference.markets()?.has(m.dot.pair));
  });
  after(async () => { await app?.stop(); await db?.end(); await fake?.stop(); });

  /** Waits until the reference price of `pair` is `last` (the feed polled it after the change). */
  const priced = (pair: string, last: number) => waitFor(`reference price ${last} for ${pair}`, () => app.reference.price(pair)?.last === last);

  it('a signal 50 % away from the reference price is refused 409 PRICE_OUT_OF_BAND naming both prices, and stores nothing', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: [m.band.pair] }); // declared pairs are polled
    await priced(m.band.pair, 60);
    const r = await api.post('/api/signals', { strategyId, ...open(m.band.pair, 30) }, author.token);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'PRICE_OUT_OF_BAND');
    assert.match(r.body.error.message, /\b30\b.*\b60\b/);
    assert.deepEqual([r.body.error.details.price, r.body.error.details.marketPrice], [30, 60]);
    // The same through the webhook, with the price as TradingView sends it (text).
    const { strategyId: s2, secret } = await seedStrategy(app, { pairs: [m.band.pair] });
    const w = await api.post(`/api/webhooks/tradingview/${s2}`, { ...open(m.band.pair, 90), price: '90', secret });
    assert.equal(w.status, 409, JSON.stringify(w.body));
    assert.equal(w.body.error.code, 'PRICE_OUT_OF_BAND');
    assert.equal(Number((await db.query(`SELECT count(*) FROM "Signal" WHERE "strategyId" = ANY($1)`, [[strategyId, s2]])).rows[0].count), 0);
  });

  it('a signal within the band is accepted with the market price stored on the signal and the trade, shown by REST and the JSON store', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: [m.stored.pair] });
    await priced(m.stored.pair, 200);
    const o = await api.post('/api/signals', { strategyId, ...open(m.stored.pair, 204) }, author.token); // 2 % away
    assert.equal(o.status, 201, JSON.stringify(o.body));
    assert.equal(o.body.marketPrice, 200);
    fake.setPrice(m.stored.pair, 210);
    await priced(m.stored.pair, 210);
    const c = await api.post('/api/signals', { strategyId, pair: m.stored.pair, action: 'CLOSE', price: 212 }, author.token);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.marketPrice, 210);
    const { rows: [t] } = await db.query(`SELECT "entryMarketPrice"::float8 AS entry, "exitMarketPrice"::float8 AS exit, "entryPrice"::float8 AS declared FROM "Trade" WHERE "openSignalId" = $1`, [o.body.id]);
    assert.deepEqual(t, { entry: 200, exit: 210, declared: 204 });
    const listed = await api.get(`/api/strategies/${strategyId}/signals`);
    assert.deepEqual(listed.body.signals.map((s: { marketPrice: number | null }) => s.marketPrice).sort(), [200, 210]);
    await app.store!.flush();
    const done = JSON.parse(await readFile(path.join(app.config.dataDir, 'signals', 'completed_trades.json'), 'utf8')) as { openSignalId: string; entryMarketPrice: number; exitMarketPrice: number }[];
    const mine = done.find((x) => x.openSignalId === o.body.id)!;
    assert.deepEqual([mine.entryMarketPrice, mine.exitMarketPrice], [200, 210]);
  });

  it('with no price at hand a signal is accepted at once, marketPrice null; it registers interest and a later signal on the pair is verified', async () => {
    const { author, strategyId } = await seedStrategy(app); // no declared pairs: nothing polls this pair yet
    assert.equal(app.reference.price(m.fresh.pair), undefined);
    const first = await api.post('/api/signals', { strategyId, ...open(m.fresh.pair, 10.1) }, author.token);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.marketPrice, null);
    await priced(m.fresh.pair, 10); // the feed polls the pair from now on
    const close = await api.post('/api/signals', { strategyId, pair: m.fresh.pair, action: 'CLOSE', price: 10.2 }, author.token);
    assert.equal(close.status, 201, JSON.stringify(close.body));
    assert.equal(close.body.marketPrice, 10);
    const wild = await api.post('/api/signals', { strategyId, ...open(m.fresh.pair, 20) }, author.token);
    assert.equal(wild.status, 409, JSON.stringify(wild.body));
    assert.equal(wild.body.error.code, 'PRICE_OUT_OF_BAND');
  });

  it('a CLOSE declared 100 % away from the market is still accepted (an exit is never blocked) and the trade exits at the market price', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: [m.band.pair] });
    await priced(m.band.pair, 60);
    const o = await api.post('/api/signals', { strategyId, ...open(m.band.pair, 60) }, author.token);
    assert.equal(o.status, 201, JSON.stringify(o.body));
    const c = await api.post('/api/signals', { strategyId, pair: m.band.pair, action: 'CLOSE', price: 120 }, author.token);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.marketPrice, 60);
    const { rows: [t] } = await db.query(`SELECT status, "exitPrice"::float8 AS declared, "exitMarketPrice"::float8 AS market FROM "Trade" WHERE "openSignalId" = $1`, [o.body.id]);
    assert.deepEqual(t, { status: 'COMPLETED', declared: 120, market: 60 });
  });

  it('a strategy declared with BTC/USDT refuses ETH/USDT and SOL/USDT with 400 PAIR_NOT_IN_STRATEGY (REST and webhook)', async () => {
    const { author, strategyId, secret } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    for (const pair of ['ETH/USDT', 'SOL/USDT']) {
      const r = await api.post('/api/signals', { strategyId, ...open(pair, 100) }, author.token);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'PAIR_NOT_IN_STRATEGY');
      assert.match(r.body.error.message, /BTC\/USDT/);
    }
    const w = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ticker: 'ETHUSDT', market_position: 'long', prev_market_position: 'flat', price: 3000, secret });
    assert.equal(w.status, 400, JSON.stringify(w.body));
    assert.equal(w.body.error.code, 'PAIR_NOT_IN_STRATEGY');
    assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 0);
  });

  it('a strategy without declared pairs refuses a pair its reference exchange does not list (400 PAIR_NOT_LISTED) and accepts a listed one', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const r = await api.post('/api/signals', { strategyId, ...open(uniquePair(), 100) }, author.token);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'PAIR_NOT_LISTED');
    const ok = await api.post('/api/signals', { strategyId, ...open(m.declared.pair, 50) }, author.token);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it('TradingView ticker DOTUSD becomes DOT/USD (not DO/TUSD), and KRAKEN:XBTUSD, which the reference exchange does not list, is refused 400', async () => {
    const { strategyId, secret } = await seedStrategy(app);
    const tv = (ticker: string, price: number) => ({ ticker, exchange: 'X', action: 'buy', market_position: 'long', prev_market_position: 'flat', price, secret });
    const dot = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('DOTUSD', 5));
    assert.equal(dot.status, 202, JSON.stringify(dot.body));
    assert.equal(dot.body.pair, 'DOT/USD');
    const xbt = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('KRAKEN:XBTUSD', 60000));
    assert.equal(xbt.status, 400, JSON.stringify(xbt.body));
    assert.equal(xbt.body.error.code, 'PAIR_NOT_LISTED');
    assert.match(xbt.body.error.message, /XBTUSD/);
    assert.deepEqual((await app.db.prisma.signal.findMany({ where: { strategyId } })).map((s) => s.pair), ['DOT/USD']);
  });
});

describe('signal acceptance across processes: an api process without the monitor checks prices from what the monitor shares', function () {
  this.timeout(60_000);
  const m = { shared: market(100), unlisted: `Z${randomBytes(3).toString('hex').toUpperCase()}/USDT` };
  let fake: FakeBinance;
  let mon: App;
  let apiApp: App;

  before(async () => {
    await monitorDatabase();
    fake = new FakeBinance({ weightLimitPerMinute: 1_000_000, markets: [m.shared] });
    await fake.start();
    const shared = { DATABASE_URL: MONITOR_DB_URL, EXCHANGE_URL_BINANCE: fake.origin, REDIS_PREFIX: `smtest:${randomUUID().slice(0, 8)}:`, ...MONITOR_ENV };
    mon = await startTestApp({ ...shared, ROLES: 'monitor' }, { redis: true });
    apiApp = await startTestApp({ ...shared, ROLES: 'api,store' }, { redis: true });
  });
  after(async () => { await apiApp?.stop(); await mon?.stop(); await fake?.stop(); });

  it('the first signal on a pair is accepted unverified, its interest reaches the monitor, and the next out-of-band signal is refused 409 by the api process', async () => {
    const api = client(apiApp);
    await waitFor('market list shared through Redis', () => apiApp.reference.markets()?.has(m.shared.pair));
    const { author, strategyId } = await seedStrategy(apiApp);
    const unlisted = await api.post('/api/signals', { strategyId, ...open(m.unlisted, 1) }, author.token);
    assert.equal(unlisted.status, 400, JSON.stringify(unlisted.body));
    assert.equal(unlisted.body.error.code, 'PAIR_NOT_LISTED');
    const first = await api.post('/api/signals', { strategyId, ...open(m.shared.pair, 101) }, author.token);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.marketPrice, null);
    await waitFor('price shared with the api process', () => apiApp.reference.price(m.shared.pair)?.last === 100);
    const close = await api.post('/api/signals', { strategyId, pair: m.shared.pair, action: 'CLOSE', price: 99 }, author.token);
    assert.equal(close.status, 201, JSON.stringify(close.body));
    assert.equal(close.body.marketPrice, 100);
    const wild = await api.post('/api/signals', { strategyId, ...open(m.shared.pair, 150) }, author.token);
    assert.equal(wild.status, 409, JSON.stringify(wild.body));
    assert.equal(wild.body.error.code, 'PRICE_OUT_OF_BAND');
  });
});

describe('signal input that used to be accepted or answered 500', function () {
  this.timeout(60_000);
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); }); // no monitor, no Redis: the offline quick start
  after(async () => { await app?.stop(); });

  it('offline (no reference prices, no market list) a signal is accepted at once with marketPrice null', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const r = await api.post('/api/signals', { strategyId, ...open(uniquePair(), 123) }, author.token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.marketPrice, null);
  });

  it('an alert time in 2030 is refused 400 instead of passing every staleness check', async () => {
    const { strategyId, secret } = await seedStrategy(app);
    for (const time of ['2030-01-01T00:00:00Z', String(Date.UTC(2030, 0, 1) / 1000)]) {
      const r = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ticker: 'BTCUSDT', market_position: 'long', prev_market_position: 'flat', price: 100, time, secret });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, /future/);
    }
    const soon = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ...open(uniquePair(), 100), timestamp: Date.now() + 20_000, secret });
    assert.equal(soon.status, 202, JSON.stringify(soon.body)); // a little clock skew is fine
    assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 1);
  });

  it('price: true (once coerced to 1) and prices given as arrays or objects are refused 400, numeric strings still accepted', async () => {
    const { author, strategyId, secret } = await seedStrategy(app);
    for (const price of [true, [100], { value: 100 }]) {
      const r = await api.post('/api/signals', { strategyId, ...open(uniquePair(), 0), price }, author.token);
      assert.equal(r.status, 400, `${JSON.stringify(price)}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, /price must be a number/);
    }
    const sl = await api.post('/api/signals', { strategyId, ...open(uniquePair(), 100), stopLoss: false }, author.token);
    assert.equal(sl.status, 400);
    const w = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ticker: 'BTCUSDT', market_position: 'long', prev_market_position: 'flat', price: true, secret });
    assert.equal(w.status, 400, JSON.stringify(w.body));
    assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 0);
    const text = await api.post('/api/signals', { strategyId, ...open(uniquePair(), 0), price: '100.5' }, author.token);
    assert.equal(text.status, 201, JSON.stringify(text.body));
    assert.equal(text.body.price, 100.5);
  });

  it('an OPEN at 1e-12 closed at 100 is answered 201 with its huge PnL stored, never 500 (numeric overflow)', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const o = await api.post('/api/signals', { strategyId, ...open(pair, 1e-12) }, author.token);
    assert.equal(o.status, 201, JSON.stringify(o.body));
    const c = await api.post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 100 }, author.token);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const t = await app.db.prisma.trade.findFirst({ where: { closeSignalId: c.body.id } });
    assert.ok(Math.abs(Number(t!.pnlPct) / 1e16 - 1) < 1e-9, `pnlPct ${t!.pnlPct}`);
  });

  it('offline, TradingView tickers map only when unambiguous: BTCUSDT → BTC/USDT, DOTUSD refused 400 asking for BASE/QUOTE', async () => {
    const { strategyId, secret } = await seedStrategy(app);
    const tv = (ticker: string) => ({ ticker, market_position: 'long', prev_market_position: 'flat', price: 100, secret });
    const btc = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('BINANCE:BTCUSDT'));
    assert.equal(btc.status, 202, JSON.stringify(btc.body));
    assert.equal(btc.body.pair, 'BTC/USDT');
    const dot = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('DOTUSD'));
    assert.equal(dot.status, 400, JSON.stringify(dot.body));
    assert.match(dot.body.error.message, /ambiguous.*DOT\/USD.*BASE\/QUOTE|ambiguous.*BASE\/QUOTE/);
  });
});

describe('ticker mapping against a market list (unit)', () => {
  const list = new MarketList([['DOT/USD', 'DOT', 'USD', 'DOTUSD'], ['DOT/USDT', 'DOT', 'USDT', 'DOTUSDT'], ['BTC/USDT', 'BTC', 'USDT', 'BTCUSDT'], ['ETH/TUSD', 'ETH', 'TUSD', 'ETHTUSD']], Date.now());
  it('maps to the listed market the ticker spells (the longest quote when several do) and refuses unlisted tickers', () => {
    assert.equal(tickerToPair('DOTUSD', list), 'DOT/USD'); // TUSD is a quote too, but DO/TUSD is not listed
    assert.equal(tickerToPair('ETHTUSD', list), 'ETH/TUSD');
    const both = new MarketList([['AB/CUSD', 'AB', 'CUSD', 'ABCUSD'], ['ABC/USD', 'ABC', 'USD', 'ABCUSD']], Date.now());
    assert.equal(tickerToPair('ABCUSD', both), 'AB/CUSD');
    assert.equal(tickerToPair('BINANCE:DOTUSDT', list), 'DOT/USDT');
    assert.equal(tickerToPair('BTCUSDT.P', list), 'BTC/USDT');
    assert.throws(() => tickerToPair('KRAKEN:XBTUSD', list), (e: { status: number; code: string }) => e.status === 400 && e.code === 'PAIR_NOT_LISTED');
    assert.throws(() => tickerToPair('XBTUSD'), (e: { status: number; message: string }) => e.status === 400 && /ambiguous/.test(e.message));
  });
});

describe('webhook limits: strangers cannot block a strategy', function () {
  this.timeout(60_000);
  for (const redis of [false, true]) {
    it(`62 wrong-secret posts, then the correct secret is answered 202; a flood from one address never delays another's or a correct post (${redis ? 'Redis' : 'memory'} counters)`, async () => {
      const app = await startTestApp({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '60', WEBHOOK_BAD_SECRET_RATE_LIMIT_PER_MINUTE: '30' }, { redis });
      try {
        const api = client(app);
        const { strategyId, secret } = await seedStrategy(app);
        const url = `/api/webhooks/tradingview/${strategyId}`;
        const from = (ip: string) => ({ 'x-forwarded-for': ip }); // TRUST_PROXY=loopback: the test client is the trusted proxy
        const statuses: number[] = [];
        for (let i = 0; i < 62; i++) statuses.push((await api.post(url, { ...open(uniquePair(), 100), secret: 'wrong-secret' }, undefined, from('203.0.113.7'))).status);
        assert.deepEqual([statuses.slice(0, 30).every((s) => s === 401), statuses.slice(30).every((s) => s === 429)], [true, true], statuses.join(','));
        const mine = await api.post(url, { ...open(uniquePair(), 100), secret }, undefined, from('203.0.113.7'));
        assert.equal(mine.status, 202, JSON.stringify(mine.body));
        const other = await api.post(url, { ...open(uniquePair(), 100), secret: 'also-wrong' }, undefined, from('198.51.100.2'));
        assert.equal(other.status, 401, 'another address has its own bucket');
        const viaTradingView = await api.post(url, { ...open(uniquePair(), 100), secret }, undefined, from('52.89.214.238'));
        assert.equal(viaTradingView.status, 202, JSON.stringify(viaTradingView.body));
      } finally { await app.stop(); }
    });
  }

  it('an IPv6 client rotating addresses inside its /56 stays in one wrong-secret bucket; IPv4 addresses each have their own', () => {
    const key = (ip: string) => badSecretKey({ ip } as Request);
    assert.equal(key('2001:db8:1:2:3:4:5:6'), key('2001:db8:1:ff:ffff::9'));
    assert.notEqual(key('2001:db8:1:2::1'), key('2001:db8:2:2::1'));
    assert.notEqual(key('203.0.113.7'), key('203.0.113.8'));
  });

  it('from an untrusted peer, a spoofed X-Forwarded-For does not earn a fresh bucket: rotating it still hits 429 after the limit, and the correct secret still gets 202', async () => {
    const app = await startTestApp({ TRUST_PROXY: '192.0.2.1', WEBHOOK_BAD_SECRET_RATE_LIMIT_PER_MINUTE: '5' }); // the test client is not a trusted proxy
    try {
      const api = client(app);
      const { strategyId, secret } = await seedStrategy(app);
      const url = `/api/webhooks/tradingview/${strategyId}`;
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await api.post(url, { ...open(uniquePair(), 100), secret: 'wrong' }, undefined, { 'x-forwarded-for': `198.51.100.${i + 1}` })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      assert.equal((await api.post(url, { ...open(uniquePair(), 100), secret })).status, 202);
    } finally { await app.stop(); }
  });
});
