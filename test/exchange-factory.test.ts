/**
 * The one ccxt factory (src/exchange/ccxt-factory.ts) against the three fake venues, real ccxt over HTTP:
 * ccxt keeps its real URLs while every request reaches the fake (the origin override is a custom
 * fetchImplementation), so ccxt's URL-keyed error tables map answers as in production; one market list per
 * venue and origin for the process (loaded once, adopted by every other instance, refreshed in the
 * background when old); unknown venues and market types are refused.
 */
import assert from 'node:assert/strict';
import ccxt, { type Exchange } from 'ccxt';
import { CcxtFactory, classifyCcxtError, createPublicMarketData, ExchangeError, venueProfile } from '../src/exchange/index.js';
import { replaceOrigin } from '../src/exchange/local-origin.js';
import { FakeBinance, FakeBybit, FakeMexc } from './support/fake-exchange.js';

type Fake = FakeBinance | FakeMexc | FakeBybit;

/** Every string leaf of ccxt's `urls.api`, its `{hostname}` template filled in as ccxt does. */
function apiUrls(ex: Exchange): string[] {
  const out: string[] = [];
  const walk = (n: unknown): void => { if (typeof n === 'string') out.push(n.replace('{hostname}', String(ex.hostname))); else if (n && typeof n === 'object') Object.values(n).forEach(walk); };
  walk(ex.urls.api);
  return out;
}

async function waitFor(what: string, f: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ccxt factory: one way to build a venue instance', function () {
  this.timeout(20_000);
  const binance = new FakeBinance();
  const mexc = new FakeMexc();
  const bybit = new FakeBybit();
  const urls: Record<string, string> = {};
  const factories: CcxtFactory[] = [];
  const factory = (extra: { marketsTtlMs?: number } = {}) => {
    const f = new CcxtFactory({ exchangeUrls: urls, timeoutMs: 3000, recvWindowMs: 5000, ...extra });
    factories.push(f);
    return f;
  };

  before(async () => {
    urls.binance = await binance.start();
    urls.mexc = await mexc.start();
    urls.bybit = await bybit.start();
  });
  afterEach(async () => {
    for (const f of factories.splice(0)) await f.close(); // also drops the market lists they loaded
    for (const f of [binance, mexc, bybit] as Fake[]) f.clearFaults();
  });
  after(async () => { await Promise.all([binance.stop(), mexc.stop(), bybit.stop()]); });

  const venues: { id: string; fake: () => Fake; host: string; marketsPath: string }[] = [
    { id: 'binance', fake: () => binance, host: 'https://api.binance.com/', marketsPath: '/api/v3/exchangeInfo' },
    { id: 'mexc', fake: () => mexc, host: 'https://api.mexc.com/', marketsPath: '/api/v3/exchangeInfo' },
    { id: 'bybit', fake: () => bybit, host: 'https://api.bybit.com', marketsPath: '/v5/market/instruments-info' },
  ];
  for (const v of venues) {
    it(`${v.id}: ccxt keeps its real URLs while the requests reach the fake, and the venue's markets load`, async () => {
      const ex = factory().create(v.id, { traffic: 'other' })!;
      assert.ok(apiUrls(ex).some((u) => u.startsWith(v.host)), apiUrls(ex).join(' '));
      assert.ok(apiUrls(ex).every((u) => u.startsWith('https://')), 'no URL was rewritten to the fake');
      const before = v.fake().requestCount(v.marketsPath, 'GET');
      const markets = await ex.loadMarkets();
      assert.ok(markets['ETH/USDT']?.spot, 'the fake\'s ETH/USDT spot market');
      assert.ok(v.fake().requestCount(v.marketsPath, 'GET') > before);
      assert.equal(ex.timeout, 3000);
    });
  }

  it('Binance futures: ccxt binanceusdm on the real fapi URL; -2019 from the fake is InsufficientFunds (the linear error table, chosen by the real host), which URL rewriting would turn into a plain ExchangeError', async () => {
    const p = venueProfile('binance', 'futures')!;
    assert.equal(p.ccxtId, 'binanceusdm');
    const ex = factory().create('binance', { market: 'futures', traffic: 'order' })!;
    assert.equal((ex.urls.api as Record<string, string>).fapiPrivate, 'https://fapi.binance.com/fapi/v1');
    ex.apiKey = 'k';
    ex.secret = 's';
    const answer = { kind: 'respond', status: 400, body: { code: -2019, msg: 'Margin is insufficient.' } } as const;
    binance.injectFault(answer, { path: '/fapi/v1/order', method: 'POST' });
    const order = { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '1' };
    const err = await (ex as unknown as { fapiPrivatePostOrder(p: object): Promise<unknown> }).fapiPrivatePostOrder(order).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ccxt.InsufficientFunds, String(err));
    assert.equal(binance.requestCount('/fapi/v1/order', 'POST'), 1, 'the request reached the fake');
    const mapped = classifyCcxtError(err);
    assert.equal(mapped.code, 'EXCHANGE_REJECTED');

    // The old way (every URL rewritten to the fake's origin) loses the table: the same answer is ExchangeError.
    const rewritten = new ccxt.binanceusdm({ apiKey: 'k', secret: 's' });
    const api = rewritten.urls.api as Record<string, unknown>;
    for (const [k, u] of Object.entries(api)) if (typeof u === 'string') api[k] = replaceOrigin(u, urls.binance!);
    const old = await (rewritten as unknown as { fapiPrivatePostOrder(p: object): Promise<unknown> }).fapiPrivatePostOrder(order).then(() => undefined, (e: unknown) => e);
    assert.equal((old as Error).constructor.name, 'ExchangeError');
    assert.equal(binance.requestCount('/fapi/v1/order', 'POST'), 2);
  });

  it('transport failures keep ccxt\'s classes: an answer slower than the timeout is RequestTimeout, a closed port NetworkError', async () => {
    const slow = new CcxtFactory({ exchangeUrls: urls, timeoutMs: 300 });
    factories.push(slow);
    binance.injectFault({ kind: 'latency', ms: 1500 }, { path: '/api/v3/time' });
    const timedOut = await slow.create('binance', { traffic: 'other' })!.fetchTime().then(() => undefined, (e: unknown) => e);
    assert.ok(timedOut instanceof ccxt.RequestTimeout, String(timedOut));
    assert.equal(classifyCcxtError(timedOut).kind, 'temporary');
    const closed = new CcxtFactory({ exchangeUrls: { binance: 'http://127.0.0.1:1' }, timeoutMs: 3000 });
    factories.push(closed);
    const refused = await closed.create('binance', { traffic: 'other' })!.fetchTime().then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof ccxt.NetworkError && !(refused instanceof ccxt.RequestTimeout), String(refused));
  });

  it('Bybit futures use the linear category of ccxt bybit; MEXC and unknown venues have no instance', () => {
    assert.deepEqual({ ...venueProfile('bybit', 'futures')!, configure: undefined }, {
      venue: 'bybit', market: 'futures', ccxtId: 'bybit', configure: undefined,
      options: { defaultType: 'swap', defaultSubType: 'linear', fetchMarkets: { types: ['linear'] }, enableUnifiedAccount: true, enableUnifiedMargin: false },
    });
    const f = factory();
    assert.equal(f.create('mexc', { market: 'futures', traffic: 'other' }), undefined);
    assert.equal(f.create('nosuchvenue', { traffic: 'other' }), undefined);
    assert.equal(f.create('__proto__', { traffic: 'other' }), undefined);
  });

  it('one market list per venue and origin: concurrent first loads send one request, a second factory\'s instance adopts the list without a request, a reload refreshes it for every instance', async () => {
    const a = factory().create('binance', { traffic: 'order' })!;
    const b = factory().create('binance', { traffic: 'prices', maxWaitMs: 0 })!;
    const c = factory().create('binance', { traffic: 'other' })!;
    const count = () => binance.requestCount('/api/v3/exchangeInfo', 'GET');
    const n0 = count();
    await Promise.all([a.loadMarkets(), b.loadMarkets()]);
    assert.equal(count() - n0, 1);
    await c.loadMarkets();
    assert.equal(count() - n0, 1, 'adopted, not fetched');
    assert.equal(c.markets, a.markets, 'the same objects');
    binance.addMarket({ base: 'FACT', quote: 'USDT', price: '2', tickSize: '0.01', stepSize: '0.1', minQty: '0.1', minNotional: '5' });
    assert.equal(a.markets!['FACT/USDT'], undefined);
    await b.loadMarkets(true);
    assert.equal(count() - n0, 2);
    await a.loadMarkets();
    await c.loadMarkets();
    assert.ok(a.markets!['FACT/USDT'] && c.markets!['FACT/USDT'], 'the reload reached every instance');
  });

  it('an old market list is refreshed in the background: the caller gets the current list at once, the next call the new one', async () => {
    const ex = factory({ marketsTtlMs: 200 }).create('mexc', { traffic: 'other' })!;
    await ex.loadMarkets();
    const first = ex.markets;
    const count = () => mexc.requestCount('/api/v3/exchangeInfo', 'GET');
    const n0 = count();
    await new Promise((r) => setTimeout(r, 300)); // past the 200 ms TTL
    mexc.injectFault({ kind: 'latency', ms: 1500 }, { path: '/api/v3/exchangeInfo' });
    const t0 = Date.now();
    await ex.loadMarkets();
    assert.ok(Date.now() - t0 < 1000, `answered from the current list in ${Date.now() - t0} ms, not after the 1.5 s reload`);
    assert.equal(ex.markets, first);
    await waitFor('the background reload to be sent', () => count() > n0);
    await waitFor('the new list', async () => { await ex.loadMarkets(); return ex.markets !== first; });
  });

  it('readers share the error vocabulary: an unknown venue is EXCHANGE_UNKNOWN (400), an unlisted pair EXCHANGE_BAD_SYMBOL (400)', async () => {
    const reader = createPublicMarketData({ exchangeUrls: urls, timeoutMs: 3000 });
    try {
      const unknown = await reader.fetchCandles('nosuchvenue', 'ETH/USDT', '1m', 5).then(() => undefined, (e: unknown) => e);
      assert.ok(unknown instanceof ExchangeError && unknown.code === 'EXCHANGE_UNKNOWN' && unknown.status === 400, String(unknown));
      const bad = await reader.fetchCandles('binance', 'NOPE/USDT', '1m', 5).then(() => undefined, (e: unknown) => e);
      assert.ok(bad instanceof ExchangeError && bad.code === 'EXCHANGE_BAD_SYMBOL' && bad.status === 400, String(bad));
      const ok = await reader.fetchCandles('binance', 'ETH/USDT', '1m', 5);
      assert.ok(ok.length > 0 && ok.every((c) => c.close > 0));
    } finally { await reader.close(); }
  });
});
