/**
 * src/exchange/futures.ts against both futures fakes through the real ccxt (binanceusdm, bybit linear):
 * idempotent leverage and margin (venue "already set" answers, a cache that makes repeats free), position-mode
 * detection, entries, reduce-only closes and protective orders under our ids, lookups (Binance algo orders
 * with trigger:true and their actualOrderId fill), cancels, positions, and the ExchangeError kinds.
 */
import assert from 'node:assert/strict';
import type { Exchange } from 'ccxt';
import { CcxtFactory, ExchangeError, FuturesOperations, FuturesSettingsCache } from '../src/exchange/index.js';
import { FakeBinanceFutures } from './support/fake-exchange/binance-futures/server.js';
import { FakeBybitLinear } from './support/fake-exchange/bybit-linear/server.js';
import { localBinanceUsdm, localBybitLinear } from './support/fake-exchange/futures/ccxt-clients.js';

const S = 'BTC/USDT:USDT';
const E = 'ETH/USDT:USDT';

interface Venue {
  id: 'binance' | 'bybit';
  fake: FakeBinanceFutures | FakeBybitLinear;
  connect(origin: string, key: string, secret: string, timeout: number): Exchange;
  leveragePath: string;
  marginPath: string;
  createPath: string;
}

const VENUES: Venue[] = [
  { id: 'binance', fake: new FakeBinanceFutures(), connect: (o, k, s, t) => localBinanceUsdm(o, { apiKey: k, secret: s, timeout: t }), leveragePath: '/fapi/v1/leverage', marginPath: '/fapi/v1/marginType', createPath: '/fapi/v1/algoOrder' },
  { id: 'bybit', fake: new FakeBybitLinear(), connect: (o, k, s, t) => localBybitLinear(o, { apiKey: k, secret: s, timeout: t }), leveragePath: '/v5/position/set-leverage', marginPath: '/v5/account/set-margin-mode', createPath: '/v5/order/create' },
];

async function failsWith(p: Promise<unknown>, kind: ExchangeError['kind']): Promise<ExchangeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ExchangeError, `expected ExchangeError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  throw new assert.AssertionError({ message: `expected ExchangeError ${kind}, but it resolved` });
}

for (const venue of VENUES) {
  describe(`futures operations on ${venue.id} (real ccxt against the fake)`, function () {
    this.timeout(15_000);
    const fake = venue.fake;
    let origin = '';
    let seq = 0;

    async function ops(usdt = 1000, o: { timeout?: number; settings?: FuturesSettingsCache; allowHedgeMode?: boolean } = {}) {
      seq += 1;
      const key = `${venue.id}-fut-${seq}`;
      fake.addAccount(key, `secret-${seq}`, { USDT: usdt });
      const ex = venue.connect(origin, key, `secret-${seq}`, o.timeout ?? 3000);
      await ex.loadMarkets();
      return { key, ex, f: new FuturesOperations(ex, venue.id, key, { settings: o.settings ?? new FuturesSettingsCache(), allowHedgeMode: o.allowHedgeMode }) };
    }

    before(async () => {
      origin = await fake.start();
    });
    after(async () => {
      await fake.stop();
    });
    beforeEach(() => {
      fake.clearFaults();
      fake.setMarkPrice(S, 60_000);
      fake.setMarkPrice(E, 3_000);
    });

    it('ensureLeverageAndMargin sets both once; a repeat sends nothing; a venue that already has them answers "already set", which is success', async () => {
      const { key, ex, f } = await ops();
      fake.resetCounters();
      assert.deepEqual(await f.ensureLeverageAndMargin(S, 5, 'isolated'), { requests: 2 });
      assert.deepEqual([fake.futuresAccount(key).leverage.get('BTCUSDT'), fake.futuresAccount(key).marginMode.get('BTCUSDT')], [5, 'ISOLATED']);
      assert.deepEqual(await f.ensureLeverageAndMargin(S, 5, 'isolated'), { requests: 0 });
      assert.equal(fake.requestCount(venue.leveragePath) + fake.requestCount(venue.marginPath), 2);
      // A second process (empty cache) meets the venue's "already set" answers: -4046 / 110043 / 110026.
      const fresh = new FuturesOperations(ex, venue.id, key, { settings: new FuturesSettingsCache() });
      assert.deepEqual(await fresh.ensureLeverageAndMargin(S, 5, 'isolated'), { requests: 2 });
      // Another symbol: its own leverage; Bybit's margin mode is account-wide, Binance's per symbol.
      const other = await f.ensureLeverageAndMargin(E, 5, 'isolated');
      assert.equal(other.requests, venue.id === 'bybit' ? 1 : 2);
      await failsWith(f.ensureLeverageAndMargin(S, 0, 'cross'), 'rejected');
      await failsWith(f.ensureLeverageAndMargin(S, 126, 'cross'), 'rejected');
    });

    it('the same cache shared by two instances of one key makes the second free; another key is not affected', async () => {
      const settings = new FuturesSettingsCache();
      const a = await ops(1000, { settings });
      await a.f.ensureLeverageAndMargin(S, 3, 'cross');
      fake.resetCounters();
      await a.f.positionMode(S);
      fake.resetCounters();
      const again = new FuturesOperations(a.ex, venue.id, a.key, { settings });
      assert.deepEqual(await again.ensureLeverageAndMargin(S, 3, 'cross'), { requests: 0 });
      assert.equal(await again.positionMode(S), 'oneWay');
      assert.equal(fake.requestCount(venue.id === 'binance' ? '/fapi/v1/positionSide/dual' : '/v5/position/list'), 0, 'the detected mode is shared too');
      const b = await ops(1000, { settings });
      assert.equal((await b.f.ensureLeverageAndMargin(S, 3, 'cross')).requests, 2);
    });

    it('a short with a reduce-only SL and TP under our ids; the mark falls through the TP; the lookup reports the fill; the SL is cancelled once', async () => {
      const { f } = await ops(1000);
      await f.ensureLeverageAndMargin(S, 10, 'cross');
      const entry = await f.openPosition(S, 'short', 0.01, 'sm-entry-1');
      assert.equal(entry.clientOrderId, 'sm-entry-1');
      const sl = await f.placeProtective({ symbol: S, positionSide: 'short', kind: 'stopLoss', triggerPrice: 61_000, amount: 0.01, clientOrderId: 'sm-sl-1' });
      await f.placeProtective({ symbol: S, positionSide: 'short', kind: 'takeProfit', triggerPrice: 58_000, amount: 0.01, clientOrderId: 'sm-tp-1' });
      assert.equal(sl.clientOrderId, 'sm-sl-1');
      const resting = await f.findProtective(S, 'sm-sl-1');
      assert.deepEqual([resting?.status, resting?.triggerPrice, resting?.reduceOnly], ['open', 61_000, true]);
      const [position] = await f.fetchPositions([S]);
      assert.deepEqual([position?.side, position?.contracts, position?.entryPrice, position?.hedged], ['short', 0.01, 60_000, false]);

      fake.setMarkPrice(S, 57_900);
      const tp = await f.findProtective(S, 'sm-tp-1');
      assert.deepEqual([tp?.status, tp?.filled, tp?.average], ['closed', 0.01, 57_900]);
      assert.deepEqual(await f.fetchPositions([S]), []);
      // (60,000 − 57,900) × 0.01 minus the closing fee (taker 0.04 % Binance, 0.055 % Bybit).
      const fee = 579 * (venue.id === 'binance' ? 0.0004 : 0.00055);
      const pnl = await f.realisedPnl(S, tp!, Date.now() - 60_000);
      assert.ok(pnl !== null && Math.abs(pnl - (21 - fee)) < 1e-9, `realised ${pnl}`);
      assert.equal(await f.realisedPnl(S, (await f.findOrder(S, 'sm-entry-1'))!, Date.now() - 60_000), venue.id === 'binance' ? -0.24 : null, 'an opening fill realises only its fee (Binance) / no closed-pnl record (Bybit)');
      assert.equal((await f.cancelProtective(S, 'sm-sl-1'))?.clientOrderId, 'sm-sl-1');
      assert.equal(await f.cancelProtective(S, 'sm-sl-1'), null);
      assert.equal(await f.findProtective(S, 'sm-never'), null);
      assert.equal((await f.findOrder(S, 'sm-entry-1'))?.filled, 0.01);
    });

    it('closePosition is reduce-only: it closes what is open, and answers null when nothing is left to reduce', async () => {
      const { f } = await ops(1000);
      await f.openPosition(S, 'long', 0.02, 'sm-long-1');
      fake.setMarkPrice(S, 61_000);
      const closed = await f.closePosition(S, 'long', 0.05, 'sm-close-1');
      assert.ok(closed);
      const found = (await f.findOrder(S, 'sm-close-1'))!;
      assert.deepEqual([found.status, found.filled, found.reduceOnly], ['closed', 0.02, true], 'a reduce-only close larger than the position closes the position only');
      const fee = 1220 * (venue.id === 'binance' ? 0.0004 : 0.00055);
      const pnl = await f.realisedPnl(S, found, Date.now() - 60_000);
      assert.ok(pnl !== null && Math.abs(pnl - (20 - fee)) < 1e-9, `realised ${pnl}`);
      assert.deepEqual(await f.fetchPositions(), []);
      assert.equal(await f.closePosition(S, 'long', 0.02, 'sm-close-2'), null);
    });

    it('position mode: one-way needs no params; hedge mode gets hedged params and works end to end, or is refused when not allowed', async () => {
      const { ex, f } = await ops(1000);
      assert.deepEqual(await f.positionParams(S), {});
      await (venue.id === 'binance' ? ex.setPositionMode(true) : ex.setPositionMode(true, S));
      const hedged = new FuturesOperations(ex, venue.id, 'k', { settings: new FuturesSettingsCache() });
      assert.equal(await hedged.positionMode(S), 'hedge');
      assert.deepEqual(await hedged.positionParams(S), { hedged: true });
      await hedged.openPosition(S, 'long', 0.01, 'sm-h-long');
      await hedged.openPosition(S, 'short', 0.01, 'sm-h-short');
      await hedged.placeProtective({ symbol: S, positionSide: 'long', kind: 'stopLoss', triggerPrice: 59_000, amount: 0.01, clientOrderId: 'sm-h-sl' });
      fake.setMarkPrice(S, 58_900);
      const positions = await hedged.fetchPositions([S]);
      assert.deepEqual(positions.map((p) => [p.side, p.contracts, p.hedged]), [['short', 0.01, true]]);
      assert.equal((await hedged.findProtective(S, 'sm-h-sl'))?.filled, 0.01);
      assert.equal((await hedged.closePosition(S, 'short', 0.01, 'sm-h-close'))?.clientOrderId, 'sm-h-close');
      const strict = new FuturesOperations(ex, venue.id, 'k', { allowHedgeMode: false, settings: new FuturesSettingsCache() });
      const refused = await failsWith(strict.openPosition(S, 'long', 0.01, 'sm-h-2'), 'rejected');
      assert.match(refused.message, /hedge mode/);
    });

    it('the user switches the account to hedge mode behind our back: the first order is temporary (-4061 / 10001), the retry re-detects and goes through', async () => {
      const { ex, f } = await ops(1000);
      assert.equal(await f.positionMode(S), 'oneWay');
      await (venue.id === 'binance' ? ex.setPositionMode(true) : ex.setPositionMode(true, S));
      await failsWith(f.openPosition(S, 'long', 0.01, 'sm-switch-1'), 'temporary');
      assert.equal((await f.openPosition(S, 'long', 0.01, 'sm-switch-2')).clientOrderId, 'sm-switch-2');
      assert.equal(await f.positionMode(S), 'hedge');
    });

    it('a liquidation is recorded by the venue and found by liquidations(); a stop or a manual close is not one', async () => {
      const { f } = await ops(1000);
      const since = Date.now() - 1000;
      await f.ensureLeverageAndMargin(S, 20, 'isolated');
      await f.openPosition(S, 'long', 0.05, 'sm-liq-e');
      await f.closePosition(S, 'long', 0.01, 'sm-liq-part');
      assert.deepEqual(await f.liquidations(S, since), []);
      const [p] = await f.fetchPositions([S]);
      assert.ok(p && p.liquidationPrice !== null && p.liquidationPrice > 56_000 && p.liquidationPrice < 58_000, String(p?.liquidationPrice));
      fake.setMarkPrice(S, Math.floor(p.liquidationPrice!) - 10);
      assert.deepEqual(await f.fetchPositions([S]), []);
      const liq = await f.liquidations(S, since);
      assert.equal(liq.length, 1);
      assert.deepEqual([liq[0]?.contracts, liq[0]?.price], [0.04, Math.floor(p.liquidationPrice!) - 10]);
    });

    it('a timeout after placing a protective order: temporary; the lookup finds it; resending the same id is not a rejection', async () => {
      const { key, f } = await ops(1000, { timeout: 800 });
      await f.openPosition(S, 'short', 0.01, 'sm-e-t');
      fake.injectFault({ kind: 'placeThenTimeout' }, { path: venue.createPath, method: 'POST', times: 1 });
      await failsWith(f.placeProtective({ symbol: S, positionSide: 'short', kind: 'stopLoss', triggerPrice: 61_000, amount: 0.01, clientOrderId: 'sm-sl-t' }), 'temporary');
      assert.equal(fake.futuresAccount(key).conditionals.filter((c) => c.clientId === 'sm-sl-t').length, 1);
      assert.equal((await f.findProtective(S, 'sm-sl-t'))?.status, 'open');
      // Binance -4116 (open duplicate) / Bybit 110072: an order with our id exists, look it up.
      await failsWith(f.placeProtective({ symbol: S, positionSide: 'short', kind: 'stopLoss', triggerPrice: 61_000, amount: 0.01, clientOrderId: 'sm-sl-t' }), 'temporary');
      assert.equal(fake.futuresAccount(key).conditionals.filter((c) => c.clientId === 'sm-sl-t').length, 1);
    });

    const ANSWERS: Record<Venue['id'], [string, number, object | string, ExchangeError['kind']][]> = {
      binance: [
        ['-2019 margin', 400, { code: -2019, msg: 'Margin is insufficient.' }, 'rejected'],
        ['-4164 notional', 400, { code: -4164, msg: "Order's notional must be no smaller than 100 (unless you choose reduce only)." }, 'rejected'],
        ['-4061 position side (mode changed: re-detect, retry)', 400, { code: -4061, msg: "Order's position side does not match user's setting." }, 'temporary'],
        ['-4116 duplicate id (an order with our id is open)', 400, { code: -4116, msg: 'ClientOrderId is duplicated.' }, 'temporary'],
        ['-1021 stale timestamp', 400, { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' }, 'temporary'],
        ['-2015 bad key', 401, { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' }, 'auth'],
        ['-1022 bad signature', 400, { code: -1022, msg: 'Signature for this request is not valid.' }, 'auth'],
        ['HTTP 503 (outcome unknown)', 503, 'Service Unavailable', 'temporary'],
        ['HTTP 429', 429, { code: -1003, msg: 'Too many requests.' }, 'temporary'],
      ],
      bybit: [
        ['110007 margin', 200, { retCode: 110007, retMsg: 'ab not enough for new order', result: {}, retExtInfo: {}, time: 1 }, 'rejected'],
        ['110094 notional', 200, { retCode: 110094, retMsg: 'Order does not meet minimum order value 5USDT', result: {}, retExtInfo: {}, time: 1 }, 'rejected'],
        ['10001 position idx (mode changed: re-detect, retry)', 200, { retCode: 10001, retMsg: 'position idx not match position mode', result: {}, retExtInfo: {}, time: 1 }, 'temporary'],
        ['10001 other parameter error', 200, { retCode: 10001, retMsg: 'params error: side', result: {}, retExtInfo: {}, time: 1 }, 'rejected'],
        ['110072 duplicate id (an order with our id exists)', 200, { retCode: 110072, retMsg: 'OrderLinkedID is duplicate', result: {}, retExtInfo: {}, time: 1 }, 'temporary'],
        ['10002 stale timestamp', 200, { retCode: 10002, retMsg: 'invalid request, please check your server timestamp or recv_window param', result: {}, retExtInfo: {}, time: 1 }, 'temporary'],
        ['10003 bad key', 200, { retCode: 10003, retMsg: 'API key is invalid.', result: {}, retExtInfo: {}, time: 1 }, 'auth'],
        ['10004 bad sign', 200, { retCode: 10004, retMsg: 'error sign!', result: {}, retExtInfo: {}, time: 1 }, 'auth'],
        ['10016 server error (outcome unknown)', 200, { retCode: 10016, retMsg: 'Server error.', result: {}, retExtInfo: {}, time: 1 }, 'temporary'],
        ['10006 rate limit', 200, { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: 1 }, 'temporary'],
      ],
    };

    it('each venue answer to an entry becomes the kind the executor branches on (rejected / temporary / auth)', async () => {
      const { f } = await ops(1000);
      await f.positionParams(S); // position mode cached: the faults below hit the order call only
      const path = venue.id === 'binance' ? '/fapi/v1/order' : '/v5/order/create';
      for (const [what, status, body, kind] of ANSWERS[venue.id]) {
        fake.injectFault({ kind: 'respond', status, body }, { path, method: 'POST', times: 1 });
        const err = await failsWith(f.openPosition(S, 'long', 0.01, 'sm-table'), kind).catch((e: Error) => {
          throw new Error(`${what}: ${e.message}`);
        });
        assert.ok(err.message.length > 0, what);
      }
    });

    it('error kinds: too little margin and below the minimum are rejected, a bad key is auth, an illegal client id never leaves', async () => {
      const { f } = await ops(30);
      await failsWith(f.openPosition(S, 'long', 0.05, 'sm-big'), 'rejected');
      await failsWith(f.openPosition(S, 'long', 0.0001, 'sm-tiny'), 'rejected');
      fake.resetCounters();
      await failsWith(f.openPosition(S, 'long', 0.01, 'bad id with spaces'), 'rejected');
      await failsWith(f.openPosition(S, 'long', Number.NaN, 'sm-nan'), 'rejected');
      await failsWith(f.closePosition(S, 'long', -1, 'sm-neg'), 'rejected');
      await failsWith(f.placeProtective({ symbol: S, positionSide: 'long', kind: 'stopLoss', triggerPrice: 0, amount: 0.01, clientOrderId: 'sm-zero' }), 'rejected');
      assert.equal(fake.requestCount(venue.id === 'binance' ? '/fapi/v1/order' : '/v5/order/create'), 0);
      // Bybit already fails loadMarkets with a bad key (its coin-info call is signed): inside the operation.
      const stranger = venue.connect(origin, 'nobody', 'x', 3000);
      await failsWith(new FuturesOperations(stranger, venue.id, 'nobody').fetchPositions(), 'auth');
    });
  });
}

describe('futures operations on instances from the app\'s ccxt factory (market: futures)', function () {
  this.timeout(15_000);
  const fakes = { binance: new FakeBinanceFutures(), bybit: new FakeBybitLinear() };
  const urls: Record<string, string> = {};
  let factory: CcxtFactory;
  before(async () => {
    urls.binance = await fakes.binance.start();
    urls.bybit = await fakes.bybit.start();
    factory = new CcxtFactory({ exchangeUrls: urls, timeoutMs: 3000, recvWindowMs: 5000 });
  });
  after(async () => {
    await factory.close();
    await Promise.all([fakes.binance.stop(), fakes.bybit.stop()]);
  });

  for (const venue of ['binance', 'bybit'] as const) {
    it(`${venue}: leverage and margin, a short with its take-profit firing, and the fill found by our id`, async () => {
      const fake = fakes[venue];
      fake.setMarkPrice(S, 60_000);
      fake.addAccount(`factory-${venue}`, 'factory-secret', { USDT: 1000 });
      const ex = factory.create(venue, { market: 'futures', traffic: 'order' })!;
      Object.assign(ex, { apiKey: `factory-${venue}`, secret: 'factory-secret' });
      const f = new FuturesOperations(ex, venue, `factory-${venue}`, { settings: new FuturesSettingsCache() });
      assert.deepEqual(await f.ensureLeverageAndMargin(S, 4, 'isolated'), { requests: 2 });
      await f.openPosition(S, 'short', 0.01, 'sm-factory-entry');
      await f.placeProtective({ symbol: S, positionSide: 'short', kind: 'takeProfit', triggerPrice: 59_000, amount: 0.01, clientOrderId: 'sm-factory-tp' });
      fake.setMarkPrice(S, 58_950);
      const tp = await f.findProtective(S, 'sm-factory-tp');
      assert.deepEqual([tp?.status, tp?.filled, tp?.average], ['closed', 0.01, 58_950]);
      assert.deepEqual(await f.fetchPositions(), []);
      assert.deepEqual(fake.unhandledRequests(), []);
    });
  }
});

describe('futures operations: venues without futures', () => {
  it('refuses a venue that has no futures dialect', () => {
    assert.throws(() => new FuturesOperations({} as Exchange, 'mexc', 'k'), (e: unknown) => e instanceof ExchangeError && e.kind === 'rejected');
  });
});
