/**
 * The fake Binance spot server, exercised through the real ccxt.binance over
 * HTTP: proves the fake enforces Binance's rules and that ccxt maps each
 * failure to the exception class production code will see.
 */
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { FakeBinance, localBinance } from './support/fake-exchange.js';
import { redirectCcxtTo } from '../src/exchange/local-origin.js';
import { rejectsWith } from './support/rejects.js';
import { serve } from './support/serve.js';

type Binance = ReturnType<typeof localBinance>;

describe('fake Binance spot exchange driven by real ccxt.binance', function () {
  this.timeout(10_000);
  const fake = new FakeBinance({
    markets: [{ base: 'XRP', quote: 'USDT', price: '0.5', tickSize: '0.0001', stepSize: '0.1', minQty: '1', minNotional: '5' }],
  });
  let accountSeq = 0;

  /** A fresh account (own API key) and a ccxt client for it. */
  function client(balances: Record<string, number> = { USDT: 10_000 }, timeout = 3000): { key: string; ex: Binance } {
    accountSeq += 1;
    const key = `key-${accountSeq}`;
    fake.addAccount(key, `secret-${accountSeq}`, balances);
    return { key, ex: localBinance(fake.origin, { apiKey: key, secret: `secret-${accountSeq}`, timeout }) };
  }

  serve(fake);
  beforeEach(() => {
    fake.clearFaults();
    fake.setPrice('BTC/USDT', 60_000);
  });

  describe('market data and markets', () => {
    it('loadMarkets with credentials reports BTC/USDT precision and limits from the filters and calls only /api/v3', async () => {
      fake.resetCounters();
      const { ex } = client();
      const markets = await ex.loadMarkets();
      const btc = markets['BTC/USDT'];
      assert.ok(btc !== undefined);
      assert.equal(btc.id, 'BTCUSDT');
      assert.deepEqual(btc.precision, { amount: 0.00001, price: 0.01, base: 1e-8, quote: 1e-8 });
      assert.deepEqual(btc.limits.amount, { min: 0.00001, max: 9000 });
      assert.equal(btc.limits.cost?.min, 5);
      assert.ok(markets['ETH/USDT'] && markets['SOL/USDT'] && markets['XRP/USDT']);
      assert.deepEqual(fake.stats().requests, { 'GET /api/v3/exchangeInfo': 1 });
      assert.deepEqual(fake.unhandledRequests(), []);
    });

    it('fetchTickers returns every market at the price the test set', async () => {
      const { ex } = client();
      fake.setPrice('ETH/USDT', '3100.5');
      const tickers = await ex.fetchTickers();
      assert.equal(tickers['ETH/USDT'].last, 3100.5);
      assert.equal(tickers['BTC/USDT'].last, 60_000);
      const one = await ex.fetchTicker('ETH/USDT');
      assert.equal(one.close, 3100.5);
    });

    it('fetchOHLCV returns the candles the test set, and deterministic ones otherwise', async () => {
      const { ex } = client();
      const hour = 3_600_000;
      const t0 = Math.floor(Date.now() / hour) * hour - 3 * hour;
      fake.setCandles('SOL/USDT', '1h', [0, 1, 2].map((i) => ({
        openTime: t0 + i * hour, open: 100 + i, high: 110 + i, low: 90 + i, close: 105 + i, volume: 7,
      })));
      const set = await ex.fetchOHLCV('SOL/USDT', '1h', t0, 3);
      assert.deepEqual(set, [[t0, 100, 110, 90, 105, 7], [t0 + hour, 101, 111, 91, 106, 7], [t0 + 2 * hour, 102, 112, 92, 107, 7]]);
      const first = await ex.fetchOHLCV('BTC/USDT', '1h', t0, 3);
      const second = await ex.fetchOHLCV('BTC/USDT', '1h', t0, 3);
      assert.equal(first.length, 3);
      assert.deepEqual(first, second);
    });
  });

  describe('orders', () => {
    it('market buy with clientOrderId fills at the set price, moves balances, and fetchOrder by clientOrderId finds it', async () => {
      const { key, ex } = client();
      const order = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'sig-1-entry' });
      assert.equal(order.clientOrderId, 'sig-1-entry');
      assert.equal(order.status, 'closed');
      assert.equal(order.average, 60_000);
      const found = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'sig-1-entry' });
      assert.equal(found.id, order.id);
      assert.equal(found.filled, 0.01);
      assert.equal(fake.ordersByClientId('sig-1-entry', key).length, 1);
      const balance = await ex.fetchBalance();
      assert.equal(balance.USDT?.free, 9400);
      assert.equal(balance.BTC?.free, 0.01);
    });

    it('reusing a clientOrderId after the first order filled is rejected in strict mode as InvalidOrder', async () => {
      const { key, ex } = client();
      await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-1' });
      const error = await rejectsWith(
        ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-1' }),
        ccxt.InvalidOrder,
      );
      assert.match(error.message, /Duplicate order sent/);
      assert.equal(fake.ordersByClientId('dup-1', key).length, 1);
    });

    it('in binance mode a filled order\'s clientOrderId can be reused (a second fill), an open one cannot', async () => {
      const { key, ex } = client();
      fake.setDuplicateClientIdMode('binance');
      try {
        await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-2' });
        await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'dup-2' });
        assert.equal(fake.ordersByClientId('dup-2', key).length, 2);
        await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'dup-3' });
        await rejectsWith(ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'dup-3' }), ccxt.InvalidOrder);
      } finally {
        fake.setDuplicateClientIdMode('strict');
      }
    });

    it('quantity below minQty is rejected by the server with LOT_SIZE as InvalidOrder', async () => {
      const { key, ex } = client();
      const error = await rejectsWith(ex.createOrder('XRP/USDT', 'market', 'buy', 0.5), ccxt.InvalidOrder);
      assert.match(error.message, /Filter failure: LOT_SIZE/);
      assert.equal(fake.stats().ordersRejected[key], 1);
    });

    it('quantity off the stepSize (sent raw, bypassing ccxt truncation) is rejected with -1013 LOT_SIZE', async () => {
      const { ex } = client();
      const raw = { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.000015' };
      const error = await rejectsWith(ex.privatePostOrder(raw), ccxt.InvalidOrder);
      assert.match(error.message, /-1013.*LOT_SIZE/);
    });

    it('order value below minNotional is rejected with NOTIONAL, which ccxt maps to BadRequest (not InvalidOrder)', async () => {
      const { key, ex } = client();
      const error = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.00005), ccxt.BadRequest);
      assert.ok(!(error instanceof ccxt.InvalidOrder));
      assert.match(error.message, /Filter failure: NOTIONAL/);
      assert.equal(fake.orders(key).length, 0);
    });

    it('buying more than the free balance allows is InsufficientFunds and leaves balances untouched', async () => {
      const { key, ex } = client({ USDT: 100 });
      await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01), ccxt.InsufficientFunds);
      assert.deepEqual(fake.balances(key), { USDT: { free: '100.00000000', locked: '0.00000000' } });
    });

    it('a resting limit buy locks quote funds and fills when the price falls to it', async () => {
      const { ex } = client();
      const order = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, 55_000, { clientOrderId: 'lim-1' });
      assert.equal(order.status, 'open');
      const locked = await ex.fetchBalance();
      assert.equal(locked.USDT?.used, 550);
      assert.equal((await ex.fetchOpenOrders('BTC/USDT')).length, 1);
      fake.setPrice('BTC/USDT', 54_000);
      const filled = await ex.fetchOrder(String(order.id), 'BTC/USDT');
      assert.equal(filled.status, 'closed');
      assert.equal(filled.average, 55_000);
      const after = await ex.fetchBalance();
      assert.equal(after.USDT?.total, 9450);
      assert.equal(after.BTC?.total, 0.01);
    });

    it('a stop-loss-limit sell triggers when the price falls through its stop', async () => {
      const { ex } = client({ BTC: 1 });
      const stop = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.1, 49_900, { stopLossPrice: 50_000 });
      assert.equal(stop.status, 'open');
      fake.setPrice('BTC/USDT', 49_950);
      assert.equal((await ex.fetchOrder(String(stop.id), 'BTC/USDT')).status, 'closed');
    });

    it('cancelOrder by clientOrderId releases locked funds; cancelling again is OrderNotFound', async () => {
      const { ex } = client();
      await ex.createOrder('ETH/USDT', 'limit', 'buy', 1, 2000, { clientOrderId: 'cx-1' });
      const cancelled = await ex.cancelOrder('', 'ETH/USDT', { clientOrderId: 'cx-1' });
      assert.equal(cancelled.status, 'canceled');
      assert.equal((await ex.fetchBalance()).USDT?.free, 10_000);
      await rejectsWith(ex.cancelOrder('', 'ETH/USDT', { clientOrderId: 'cx-1' }), ccxt.OrderNotFound);
    });

    it('with stop orders set to fail, the market entry succeeds and the stop is rejected as InvalidOrder', async () => {
      const { key, ex } = client();
      fake.failOrderTypes(['STOP_LOSS_LIMIT']);
      await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'pf-entry' });
      await rejectsWith(
        ex.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 49_000, { stopLossPrice: 50_000, clientOrderId: 'pf-stop' }),
        ccxt.InvalidOrder,
      );
      assert.deepEqual(fake.orders(key).map((o) => o.clientOrderId), ['pf-entry']);
    });
  });

  describe('authentication', () => {
    it('a wrong secret fails the signature check (-1022) as AuthenticationError and places nothing', async () => {
      const { key } = client();
      const ex = localBinance(fake.origin, { apiKey: key, secret: 'not-the-secret' });
      await ex.loadMarkets();
      const error = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01), ccxt.AuthenticationError);
      assert.match(error.message, /-1022/);
      assert.equal(fake.orders(key).length, 0);
    });

    it('an unknown API key (-2015, HTTP 401) is AuthenticationError', async () => {
      const ex = localBinance(fake.origin, { apiKey: 'nobody', secret: 'x' });
      const error = await rejectsWith(ex.fetchBalance(), ccxt.AuthenticationError);
      assert.match(error.message, /-2015/);
    });

    it('a key revoked after a successful private call is reported by ccxt as DDoSProtection, not AuthenticationError', async () => {
      const { key, ex } = client();
      await ex.fetchBalance();
      fake.removeAccount(key);
      const error = await rejectsWith(ex.fetchBalance(), ccxt.DDoSProtection);
      assert.ok(!(error instanceof ccxt.AuthenticationError));
    });

    it('a server clock 20 s behind the client rejects the timestamp (-1021) as InvalidNonce', async () => {
      const { ex } = client();
      fake.setClockOffset(-20_000);
      try {
        await rejectsWith(ex.fetchBalance(), ccxt.InvalidNonce);
      } finally {
        fake.setClockOffset(0);
      }
    });
  });

  describe('fault injection', () => {
    it('plain-text 503 is ExchangeNotAvailable, a NetworkError', async () => {
      const { ex } = client();
      fake.injectFault({ kind: 'respond', status: 503 }, { path: '/api/v3/account', times: 1 });
      const error = await rejectsWith(ex.fetchBalance(), ccxt.ExchangeNotAvailable);
      assert.ok(error instanceof ccxt.NetworkError);
      await ex.fetchBalance();
    });

    it('503 with Binance body -1001 is OperationFailed but not a NetworkError', async () => {
      const { ex } = client();
      const body = { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' };
      fake.injectFault({ kind: 'respond', status: 503, body }, { path: '/api/v3/account', times: 1 });
      const error = await rejectsWith(ex.fetchBalance(), ccxt.OperationFailed);
      assert.ok(!(error instanceof ccxt.NetworkError));
    });

    it('429 with -1003 and Retry-After is DDoSProtection, a NetworkError', async () => {
      const { ex } = client();
      fake.injectFault({ kind: 'rateLimit', retryAfterSec: 2 }, { times: 1 });
      const error = await rejectsWith(ex.fetchTicker('BTC/USDT'), ccxt.DDoSProtection);
      assert.ok(error instanceof ccxt.NetworkError);
      assert.match(error.message, /-1003/);
    });

    it('placeThenTimeout: ccxt (timeout 500 ms) throws RequestTimeout while the order exists and is found by clientOrderId', async () => {
      const { key, ex } = client({ USDT: 10_000 }, 500);
      await ex.loadMarkets();
      fake.injectFault({ kind: 'placeThenTimeout' }, { path: '/api/v3/order', method: 'POST', times: 1 });
      const started = Date.now();
      await rejectsWith(
        ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'lost-1' }),
        ccxt.RequestTimeout,
      );
      assert.ok(Date.now() - started < 2000);
      assert.equal(fake.ordersByClientId('lost-1', key).length, 1);
      const found = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'lost-1' });
      assert.equal(found.status, 'closed');
      assert.equal((await ex.fetchBalance()).BTC?.free, 0.01);
    });

    it('placeThenTimeout with a reset socket: NetworkError, order placed', async () => {
      const { key, ex } = client();
      await ex.loadMarkets();
      fake.injectFault({ kind: 'placeThenTimeout', how: 'destroy' }, { path: '/api/v3/order', times: 1 });
      await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'lost-2' }), ccxt.NetworkError);
      assert.equal(fake.ordersByClientId('lost-2', key).length, 1);
    });

    it('latency delays the answer without failing it', async () => {
      const { ex } = client();
      fake.injectFault({ kind: 'latency', ms: 150 }, { path: '/api/v3/ticker/24hr', times: 1 });
      const started = Date.now();
      await ex.fetchTicker('BTC/USDT');
      assert.ok(Date.now() - started >= 140);
    });
  });

  describe('counters and helpers', () => {
    it('counts requests per path and accepted orders per key, and sends weight headers', async () => {
      const { key, ex } = client();
      await ex.loadMarkets();
      fake.resetCounters();
      await ex.createOrder('SOL/USDT', 'market', 'buy', 1);
      await ex.createOrder('SOL/USDT', 'market', 'sell', 1);
      assert.equal(fake.requestCount('/api/v3/order', 'POST'), 2);
      assert.equal(fake.stats().ordersAccepted[key], 2);
      const response = await fetch(`${fake.origin}/api/v3/ping`);
      assert.ok(Number(response.headers.get('x-mbx-used-weight-1m')) >= 3);
    });

    it('redirectCcxtTo keeps ccxt\'s real URLs while every request reaches the origin', async () => {
      const ex = redirectCcxtTo(new ccxt.binance(), fake.origin);
      const api = ex.urls.api as Record<string, string>;
      assert.equal(api.public, 'https://api.binance.com/api/v3');
      assert.equal(api.sapi, 'https://api.binance.com/sapi/v1');
      fake.resetCounters();
      assert.equal(typeof await ex.fetchTime(), 'number');
      assert.equal(fake.requestCount('/api/v3/time', 'GET'), 1);
    });
  });
});
