/**
 * The fake MEXC spot v3 exchange driven by the real ccxt.mexc over HTTP:
 * MEXC's signing (all parameters in the query, even for POST), its client-id
 * rule (unique among open orders only), its error bodies, and the ccxt class
 * each one becomes (EXCHANGES.md, "MEXC spot v3").
 */
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { FakeMexc, localMexc } from './support/fake-exchange.js';
import { rejectsWith, type ErrorClass } from './support/rejects.js';
import { serve } from './support/serve.js';

type Mexc = ReturnType<typeof localMexc>;

describe('fake MEXC spot v3 driven by real ccxt.mexc', function () {
  this.timeout(10_000);
  const fake = new FakeMexc();
  let seq = 0;

  function client(balances: Record<string, number> = { USDT: 10_000 }, timeout = 3000): { key: string; ex: Mexc } {
    seq += 1;
    const key = `mx-key-${seq}`;
    fake.addAccount(key, `mx-secret-${seq}`, balances);
    return { key, ex: localMexc(fake.origin, { apiKey: key, secret: `mx-secret-${seq}`, timeout }) };
  }

  serve(fake);
  beforeEach(() => {
    fake.clearFaults();
    fake.setClockOffset(0);
    fake.lookupLagMs = 0;
    fake.setPrice('BTC/USDT', 60_000);
  });

  it('loadMarkets answers exchangeInfo and the swap-contract list (empty) with no unserved call, and the ticker shows the set price', async () => {
    fake.resetCounters();
    const { ex } = client();
    const markets = await ex.loadMarkets();
    assert.deepEqual(markets['BTC/USDT']?.precision, { amount: 0.00001, price: 0.01 });
    assert.equal(markets['BTC/USDT']?.limits.cost?.min, 5);
    assert.equal(Object.values(markets).filter((m) => m?.swap === true).length, 0);
    assert.equal(fake.requestCount('/api/v1/contract/detail'), 1);
    assert.deepEqual(fake.unhandledRequests(), []);
    fake.setPrice('BTC/USDT', 61_234.5);
    assert.equal((await ex.fetchTicker('BTC/USDT')).last, 61_234.5);
  });

  it('order and 24h-ticker answers carry exactly the fields of the real answers ccxt recorded (response/mexc.json: fetchOrders, fetchTicker)', async () => {
    const { ex } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'fields-1' });
    const order = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'fields-1' });
    const recordedOrder = ['symbol', 'orderId', 'orderListId', 'clientOrderId', 'price', 'origQty', 'executedQty', 'cummulativeQuoteQty', 'status', 'timeInForce', 'type', 'side', 'stopPrice', 'icebergQty', 'time', 'updateTime', 'isWorking', 'origQuoteOrderQty'];
    assert.deepEqual(Object.keys(order.info as object).sort(), [...recordedOrder].sort());
    const ticker = await ex.fetchTicker('BTC/USDT');
    const recordedTicker = ['symbol', 'priceChange', 'priceChangePercent', 'prevClosePrice', 'lastPrice', 'bidPrice', 'bidQty', 'askPrice', 'askQty', 'openPrice', 'highPrice', 'lowPrice', 'volume', 'quoteVolume', 'openTime', 'closeTime', 'count'];
    assert.deepEqual(Object.keys(ticker.info as object).sort(), [...recordedTicker].sort());
  });

  it('every private parameter travels in the query of a POST and the signature covers exactly those bytes: a wrong secret is AuthenticationError (700002), an unknown key BadRequest (10072)', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    const wrong = localMexc(fake.origin, { apiKey: key, secret: 'not-the-secret' });
    const e = await rejectsWith(wrong.createOrder('BTC/USDT', 'market', 'buy', 0.001), ccxt.AuthenticationError);
    assert.match(e.message, /700002/);
    const unknown = localMexc(fake.origin, { apiKey: 'nobody', secret: 'x' });
    await rejectsWith(unknown.fetchBalance(), ccxt.BadRequest);
    assert.equal(fake.orders(key).length, 0);
  });

  it('a request signed 20 s ago (server clock ahead) is InvalidNonce (700003) and places nothing', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    fake.setClockOffset(20_000);
    const e = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), ccxt.InvalidNonce);
    assert.match(e.message, /700003/);
    assert.equal(fake.orders(key).length, 0);
  });

  it('market buy by amount and by cost, then market sell: orders fill at the last price and balances move; the create answer has no status (MEXC sends none)', async () => {
    const { ex } = client({ USDT: 1000 });
    const buy = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001);
    assert.equal(buy.status, undefined);
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 120 });
    let balance = await ex.fetchBalance();
    assert.equal(balance.USDT?.total, 820);
    assert.equal(balance.BTC?.total, 0.003);
    await ex.createOrder('BTC/USDT', 'market', 'sell', 0.002);
    balance = await ex.fetchBalance();
    assert.equal(balance.USDT?.total, 940);
    assert.equal(balance.BTC?.total, 0.001);
    const filled = await ex.fetchOrder(buy.id ?? '', 'BTC/USDT');
    assert.equal(filled.status, 'closed');
    assert.equal((filled.info as { clientOrderId: unknown }).clientOrderId, null); // sent without one
    assert.equal(filled.filled, 0.001);
  });

  it('a client id is refused while an order with it is open, and accepted again once that order filled (a blind retry after a fill buys twice)', async () => {
    const { ex, key } = client();
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'entry-1' });
    const dup = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'entry-1' }), ccxt.ExchangeError);
    assert.match(dup.message, /Duplicate order sent/);
    fake.setPrice('BTC/USDT', 49_000); // the resting limit fills
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'entry-1' });
    const withId = fake.ordersByClientId('entry-1', key);
    assert.equal(withId.length, 2);
    assert.ok(withId.every((o) => o.status === 'FILLED'));
  });

  it('a lookup by client id finds the order; an unknown id is -2013 as ExchangeError (not OrderNotFound); with lookupLagMs a fresh order is briefly -2013, then found', async () => {
    const { ex } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'look-1' });
    const found = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'look-1' });
    assert.equal(found.clientOrderId, 'look-1');
    assert.equal(found.status, 'closed');
    const missing = await rejectsWith(ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'never-sent' }), ccxt.ExchangeError);
    assert.ok(!(missing instanceof ccxt.OrderNotFound));
    assert.match(missing.message, /-2013/);
    fake.lookupLagMs = 300;
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'look-2' });
    await rejectsWith(ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'look-2' }), ccxt.ExchangeError);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'look-2' })).filled, 0.001);
  });

  it('cancel by client id releases the locked quote; cancelling it again is -2011 BadRequest', async () => {
    const { ex, key } = client({ USDT: 100 });
    await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'c-1' });
    assert.equal(fake.balances(key).USDT?.locked, '50.00000000');
    await ex.cancelOrder('', 'BTC/USDT', { clientOrderId: 'c-1' });
    assert.equal(fake.balances(key).USDT?.free, '100.00000000');
    assert.equal(fake.ordersByClientId('c-1', key)[0]?.status, 'CANCELED');
    await rejectsWith(ex.cancelOrder('', 'BTC/USDT', { clientOrderId: 'c-1' }), ccxt.BadRequest);
  });

  it('stopLossPrice is not a MEXC spot feature: ccxt forwards it as an unknown parameter, MEXC ignores it, and the market order executes at once', async () => {
    const { ex, key } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { stopLossPrice: 50_000 });
    const orders = fake.orders(key);
    assert.equal(orders.at(-1)?.type, 'MARKET');
    assert.equal(orders.at(-1)?.status, 'FILLED');
  });

  it('over the per-second order limit the 2nd order gets HTTP 429 {"code":429} → RateLimitExceeded and is not placed', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    fake.setRequestLimit('POST', '/api/v3/order', 1);
    const settled: PromiseSettledResult<unknown>[] = [];
    // Two orders sent together share one second unless they straddle a boundary; a few tries make that certain.
    for (let i = 0; i < 3 && !settled.some((r) => r.status === 'rejected'); i += 1) {
      settled.push(...(await Promise.allSettled([0, 1].map(() => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001)))));
    }
    const rejected = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(rejected.length >= 1);
    assert.ok(rejected.every((r) => r.reason instanceof ccxt.RateLimitExceeded && /"code":429/.test(String(r.reason.message))));
    assert.equal(fake.orders(key).length, settled.length - rejected.length);
  });

  it('a 500 after the order was placed is ExchangeError, and a timeout after the order was placed is RequestTimeout: in both cases a lookup by client id then finds the filled order', async () => {
    const { ex } = client();
    await ex.loadMarkets();
    fake.injectFault({ kind: 'processThenRespond', status: 500, body: { code: 500, msg: 'Internal error' } }, { path: '/api/v3/order', method: 'POST', times: 1 });
    await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'unk-500' }), ccxt.ExchangeError);
    assert.equal((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'unk-500' })).status, 'closed');
    const slow = localMexc(fake.origin, { apiKey: ex.apiKey, secret: ex.secret, timeout: 300 });
    await slow.loadMarkets();
    fake.injectFault({ kind: 'placeThenTimeout' }, { path: '/api/v3/order', method: 'POST', times: 1 });
    await rejectsWith(slow.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'unk-to' }), ccxt.RequestTimeout);
    assert.equal((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'unk-to' })).filled, 0.001);
  });

  it('injected latency delays the answer without failing it', async () => {
    const { ex } = client();
    await ex.loadMarkets();
    fake.injectFault({ kind: 'latency', ms: 150 }, { path: '/api/v3/account', times: 1 });
    const started = Date.now();
    await ex.fetchBalance();
    assert.ok(Date.now() - started >= 140);
  });

  describe('each MEXC error answer becomes the ccxt class EXCHANGES.md lists', () => {
    const respond = (body: object, status = 400) => () => fake.injectFault({ kind: 'respond', status, body }, { path: '/api/v3/order', times: 1 });
    const cases: { code: string; cls: ErrorClass; run: (ex: Mexc, key: string) => Promise<unknown>; setup?: () => void }[] = [
      { code: '30004 insufficient balance', cls: ccxt.InsufficientFunds, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 1) },
      { code: '30002 below minimum amount', cls: ccxt.InvalidOrder, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.00005) },
      { code: '700002 bad signature', cls: ccxt.AuthenticationError, run: (_ex, key) => localMexc(fake.origin, { apiKey: key, secret: 'bad' }).fetchBalance() },
      { code: '700003 stale timestamp', cls: ccxt.InvalidNonce, run: (ex) => ex.fetchBalance(), setup: () => fake.setClockOffset(-30_000) },
      { code: '10072 invalid key', cls: ccxt.BadRequest, run: () => localMexc(fake.origin, { apiKey: 'ghost', secret: 'x' }).fetchBalance() },
      { code: '-2013 not found', cls: ccxt.ExchangeError, run: (ex) => ex.fetchOrder('123', 'BTC/USDT') },
      { code: '-2011 unknown cancel', cls: ccxt.BadRequest, run: (ex) => ex.cancelOrder('123', 'BTC/USDT') },
      { code: '429 rate limit', cls: ccxt.RateLimitExceeded, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), setup: () => fake.injectFault({ kind: 'rateLimit' }, { times: 1, path: '/api/v3/order' }) },
      { code: '510 too frequent', cls: ccxt.RateLimitExceeded, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), setup: respond({ code: 510, msg: 'Requests are too frequent, please try again later' }, 429) },
      { code: '10101 insufficient (doc)', cls: ccxt.InsufficientFunds, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), setup: respond({ code: 10101, msg: 'Insufficient balance' }) },
      { code: '30005 Oversold (broad)', cls: ccxt.InsufficientFunds, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), setup: respond({ code: 30005, msg: 'Oversold' }) },
      { code: 'non-JSON 403 WAF', cls: ccxt.ExchangeNotAvailable, run: (ex) => ex.createOrder('BTC/USDT', 'market', 'buy', 0.001), setup: () => fake.injectFault({ kind: 'respond', status: 403, body: '<html>403 Forbidden</html>', headers: { 'content-type': 'text/html' } }, { times: 1, path: '/api/v3/order' }) },
    ];
    for (const c of cases) {
      it(`${c.code} → ${c.cls.name}`, async () => {
        const { ex, key } = client({ USDT: 100 });
        await ex.loadMarkets();
        c.setup?.();
        const error = await rejectsWith(c.run(ex, key), c.cls);
        const code = c.code.split(' ')[0]!;
        if (/^-?\d+$/.test(code)) assert.match(error.message, new RegExp(`"code":${code}[,}]`));
        assert.equal(fake.orders(key).length, 0);
      });
    }
  });
});
