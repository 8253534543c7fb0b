/**
 * The fake Bybit v5 (spot) exchange driven by the real ccxt.bybit over HTTP:
 * Bybit's header signing over the raw JSON body / query, the retCode
 * envelope (HTTP 200), orderLinkId uniqueness for ever, lookups where "not
 * found" is an empty list, and the ccxt class of each answer (EXCHANGES.md,
 * "Bybit v5").
 */
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { FakeBybit, localBybit } from './support/fake-exchange.js';
import { rejectsWith, type ErrorClass } from './support/rejects.js';
import { serve } from './support/serve.js';

type Bybit = ReturnType<typeof localBybit>;

describe('fake Bybit v5 spot driven by real ccxt.bybit', function () {
  this.timeout(10_000);
  const fake = new FakeBybit();
  let seq = 0;

  function client(balances: Record<string, number> = { USDT: 10_000 }, timeout = 3000, options: Record<string, unknown> = {}): { key: string; ex: Bybit } {
    seq += 1;
    const key = `by-key-${seq}`;
    fake.addAccount(key, `by-secret-${seq}`, balances);
    return { key, ex: localBybit(fake.origin, { apiKey: key, secret: `by-secret-${seq}`, timeout, options }) };
  }

  /** Orders of the account with this orderLinkId as /v5/order/realtime lists them (open + recently closed). */
  const byLinkId = (ex: Bybit, linkId: string) => ex.fetchOpenOrders('BTC/USDT', undefined, undefined, { orderLinkId: linkId });

  serve(fake);
  beforeEach(() => {
    fake.clearFaults();
    fake.setClockOffset(0);
    fake.setPrice('BTC/USDT', 60_000);
  });

  it('loadMarkets with keys is answered for spot, linear, inverse, the option coins and coin-info, lists only spot markets, and leaves no call unserved', async () => {
    fake.resetCounters();
    const { ex } = client();
    const markets = await ex.loadMarkets();
    assert.deepEqual(markets['BTC/USDT']?.precision, { amount: 0.00001, price: 0.01 });
    assert.equal(markets['BTC/USDT']?.limits.cost?.min, 5);
    assert.ok(Object.values(markets).every((m) => m?.spot === true));
    assert.ok(fake.requestCount('/v5/market/instruments-info') >= 4);
    assert.equal(fake.requestCount('/v5/asset/coin/query-info'), 1);
    assert.deepEqual(fake.unhandledRequests(), []);
    fake.setPrice('BTC/USDT', 61_000.5);
    assert.equal((await ex.fetchTicker('BTC/USDT')).last, 61_000.5);
  });

  it('with enableUnifiedAccount preset ccxt places an order without the query-api/account-info pre-calls; without it the fake answers them as a UTA account', async () => {
    const { ex } = client();
    await ex.loadMarkets();
    fake.resetCounters();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 });
    assert.equal(fake.requestCount('/v5/user/query-api') + fake.requestCount('/v5/account/info'), 0);
    const { ex: plain } = client({ USDT: 100 }, 3000, { enableUnifiedAccount: undefined, enableUnifiedMargin: undefined });
    await plain.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 });
    assert.equal(fake.requestCount('/v5/user/query-api'), 1);
    assert.equal(fake.requestCount('/v5/account/info'), 1);
  });

  it('order and UNIFIED wallet answers carry the fields of the real answers ccxt recorded (response/bybit.json: fetchClosedOrder, fetchOpenOrder, fetchBalance)', async () => {
    const { ex } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'fields-1' });
    const [order] = await byLinkId(ex, 'fields-1');
    const recordedClosed = ['symbol', 'orderType', 'orderLinkId', 'slLimitPrice', 'orderId', 'cancelType', 'avgPrice', 'stopOrderType', 'lastPriceOnCreated', 'orderStatus', 'createType', 'takeProfit', 'cumExecValue', 'tpslMode', 'smpType', 'triggerDirection', 'blockTradeId', 'cumFeeDetail', 'rejectReason', 'isLeverage', 'price', 'orderIv', 'createdTime', 'tpTriggerBy', 'positionIdx', 'timeInForce', 'leavesValue', 'updatedTime', 'side', 'smpGroup', 'triggerPrice', 'tpLimitPrice', 'cumExecFee', 'slTriggerBy', 'leavesQty', 'closeOnTrigger', 'slippageToleranceType', 'placeType', 'cumExecQty', 'reduceOnly', 'qty', 'stopLoss', 'smpOrderId', 'slippageTolerance', 'triggerBy', 'extraFees'];
    // The recorded open order also has marketUnit (spot market orders report their unit).
    assert.deepEqual(Object.keys(order?.info as object).sort(), [...recordedClosed, 'marketUnit'].sort());
    const balance = await ex.fetchBalance();
    const coin = ((balance.info as { result: { list: { coin: object[] }[] } }).result.list[0]?.coin ?? [])[0] ?? {};
    const recordedCoin = ['availableToBorrow', 'bonus', 'accruedInterest', 'availableToWithdraw', 'totalOrderIM', 'equity', 'totalPositionMM', 'usdValue', 'unrealisedPnl', 'collateralSwitch', 'spotHedgingQty', 'borrowAmount', 'totalPositionIM', 'walletBalance', 'cumRealisedPnl', 'locked', 'marginCollateral', 'coin'];
    assert.deepEqual(Object.keys(coin).sort(), [...recordedCoin].sort());
  });

  it('the sign covers timestamp+key+recvWindow+raw JSON body: a wrong secret is AuthenticationError (10004) and an unknown key AuthenticationError (10003), nothing placed', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    const wrong = localBybit(fake.origin, { apiKey: key, secret: 'not-the-secret' });
    wrong.markets = ex.markets;
    wrong.marketsById = ex.marketsById;
    wrong.symbols = ex.symbols;
    const e = await rejectsWith(wrong.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 }), ccxt.AuthenticationError);
    assert.match(e.message, /"retCode":10004/);
    const ghost = localBybit(fake.origin, { apiKey: 'ghost', secret: 'x' });
    assert.match((await rejectsWith(ghost.fetchBalance(), ccxt.AuthenticationError)).message, /10003/);
    assert.equal(fake.orders(key).length, 0);
  });

  it('a timestamp older than recvWindow (5 s) is InvalidNonce (10002) and places nothing', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    fake.setClockOffset(6000);
    const e = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 }), ccxt.InvalidNonce);
    assert.match(e.message, /"retCode":10002/);
    assert.equal(fake.orders(key).length, 0);
  });

  it('market buy by cost spends the quote amount (qty in quote coin), market buy by amount uses marketUnit=baseCoin, market sell sells base: balances move', async () => {
    const { ex, key } = client({ USDT: 1000 });
    const byCost = await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 120 });
    assert.equal(byCost.status, undefined); // Bybit's create answer carries ids only
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001);
    const orders = fake.orders(key);
    assert.equal(orders[0]?.origQuoteOrderQty, '120.00000000');
    assert.equal(orders[1]?.origQty, '0.00100000');
    let balance = await ex.fetchBalance();
    assert.equal(balance.USDT?.total, 820);
    assert.equal(balance.BTC?.total, 0.003);
    await ex.createOrder('BTC/USDT', 'market', 'sell', 0.002);
    balance = await ex.fetchBalance();
    assert.equal(balance.USDT?.total, 940);
    assert.equal(balance.BTC?.free, 0.001);
  });

  it('an orderLinkId is refused for ever, even after its order filled: 170141 → InvalidOrder, and only one order exists', async () => {
    const { ex, key } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'once-1' });
    const e = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'once-1' }), ccxt.InvalidOrder);
    assert.match(e.message, /"retCode":170141/);
    assert.equal(fake.ordersByClientId('once-1', key).length, 1);
  });

  it('lookups by orderLinkId: realtime lists the filled order (status closed) until a restart, history keeps it; unknown ids give an empty list, and ccxt fetchOrder(undefined) on one throws TypeError', async () => {
    const { ex } = client();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'look-1' });
    const [live] = await byLinkId(ex, 'look-1');
    assert.equal(live?.clientOrderId, 'look-1');
    assert.equal(live?.status, 'closed');
    assert.equal(live?.filled, 0.001);
    assert.deepEqual(await byLinkId(ex, 'never-sent'), []);
    await rejectsWith(ex.fetchOrder(undefined as unknown as string, 'BTC/USDT', { orderLinkId: 'never-sent', acknowledged: true }), TypeError);
    fake.restartRealtime();
    assert.deepEqual(await byLinkId(ex, 'look-1'), []);
    const history = await ex.fetchCanceledAndClosedOrders('BTC/USDT', undefined, undefined, { orderLinkId: 'look-1' });
    assert.equal(history.length, 1);
    assert.equal(history[0]?.filled, 0.001);
  });

  it('history keeps a cancelled order without fills for 24 h only, and returns at most `limit` (≤ 50) orders', async () => {
    const { ex } = client();
    const order = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'gone-1' });
    await ex.cancelOrder(order.id ?? '', 'BTC/USDT');
    assert.equal((await ex.fetchCanceledAndClosedOrders('BTC/USDT', undefined, undefined, { orderLinkId: 'gone-1' })).length, 1);
    fake.setClockOffset(25 * 3_600_000);
    ex.options.timeDifference = -25 * 3_600_000; // ccxt signs with the exchange's clock
    assert.deepEqual(await ex.fetchCanceledAndClosedOrders('BTC/USDT', undefined, undefined, { orderLinkId: 'gone-1' }), []);
    fake.setClockOffset(0);
    ex.options.timeDifference = 0;
    for (let i = 0; i < 3; i += 1) await ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 6 });
    assert.equal((await ex.fetchCanceledAndClosedOrders('BTC/USDT', undefined, 2)).length, 2);
  });

  it('cancel releases the locked quote; cancelling a closed order is 170213 → OrderNotFound', async () => {
    const { ex, key } = client({ USDT: 100 });
    const order = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'c-1' });
    assert.equal(fake.balances(key).USDT?.locked, '50.00000000');
    await ex.cancelOrder(order.id ?? '', 'BTC/USDT');
    assert.equal(fake.balances(key).USDT?.free, '100.00000000');
    assert.equal((await byLinkId(ex, 'c-1'))[0]?.status, 'canceled');
    const e = await rejectsWith(ex.cancelOrder(order.id ?? '', 'BTC/USDT'), ccxt.OrderNotFound);
    assert.match(e.message, /170213/);
  });

  it('a spot stop-loss (stopLossPrice → orderFilter=tpslOrder) locks the base, rests Untriggered, and sells when the price falls to it', async () => {
    const { ex, key } = client({ USDT: 0, BTC: 0.01 });
    await ex.createOrder('BTC/USDT', 'market', 'sell', 0.005, undefined, { clientOrderId: 'sl-1', stopLossPrice: 55_000 });
    assert.equal(fake.balances(key).BTC?.locked, '0.00500000');
    const [resting] = await ex.fetchOpenOrders('BTC/USDT', undefined, undefined, { orderLinkId: 'sl-1', orderFilter: 'tpslOrder' });
    assert.equal(resting?.status, 'open');
    assert.equal((resting?.info as { orderStatus: string }).orderStatus, 'Untriggered');
    assert.equal(resting?.triggerPrice, 55_000);
    fake.setPrice('BTC/USDT', 54_000);
    const [fired] = await byLinkId(ex, 'sl-1');
    assert.equal(fired?.status, 'closed');
    assert.equal(fake.balances(key).USDT?.free, '270.00000000');
  });

  it('on a symbol configured without spot TP/SL a stop-loss is refused with 170130 (BadRequest) and nothing is locked', async () => {
    const { ex, key } = client({ USDT: 0, BTC: 0.01 });
    await ex.loadMarkets();
    fake.setTpslSymbols(['ETH/USDT']);
    try {
      const e = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'sell', 0.005, undefined, { stopLossPrice: 55_000 }), ccxt.BadRequest);
      assert.match(e.message, /"retCode":170130/);
      assert.equal(fake.balances(key).BTC?.locked, '0.00000000');
      assert.equal(fake.orders(key).length, 0);
    } finally {
      fake.setTpslSymbols(undefined);
    }
  });

  it('over the per-UID limit Bybit answers HTTP 200 retCode 10006 → RateLimitExceeded; the IP ban is HTTP 403 plain text → RateLimitExceeded; neither places an order', async () => {
    const { ex, key } = client();
    await ex.loadMarkets();
    fake.injectFault({ kind: 'rateLimit' }, { path: '/v5/order/create', times: 1 });
    const e = await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 }), ccxt.RateLimitExceeded);
    assert.match(e.message, /"retCode":10006/);
    fake.banIp(1);
    await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60 }), ccxt.RateLimitExceeded);
    assert.equal(fake.orders(key).length, 0);
  });

  it('10016 "Server error." after the order was placed is ExchangeError, a timeout after placing is RequestTimeout: a lookup by orderLinkId then finds the filled order each time', async () => {
    const { ex } = client();
    await ex.loadMarkets();
    fake.injectFault(
      { kind: 'processThenRespond', status: 200, body: { retCode: 10016, retMsg: 'Server error.', result: {}, retExtInfo: {}, time: Date.now() } },
      { path: '/v5/order/create', times: 1 },
    );
    await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'unk-1' }), ccxt.ExchangeError);
    assert.equal((await byLinkId(ex, 'unk-1'))[0]?.filled, 0.001);
    const slow = localBybit(fake.origin, { apiKey: ex.apiKey, secret: ex.secret, timeout: 300 });
    await slow.loadMarkets();
    fake.injectFault({ kind: 'placeThenTimeout' }, { path: '/v5/order/create', times: 1 });
    await rejectsWith(slow.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: 60, clientOrderId: 'unk-2' }), ccxt.RequestTimeout);
    assert.equal((await byLinkId(ex, 'unk-2'))[0]?.status, 'closed');
  });

  describe('each Bybit answer becomes the ccxt class EXCHANGES.md lists', () => {
    const cost = (c: number, extra: Record<string, unknown> = {}) => (ex: Bybit) => ex.createOrder('BTC/USDT', 'market', 'buy', 0, undefined, { cost: c, ...extra });
    const cases: { label: string; cls: ErrorClass; run: (ex: Bybit, key: string) => Promise<unknown>; setup?: (ex: Bybit) => Promise<unknown> | void }[] = [
      { label: '10002 stale timestamp', cls: ccxt.InvalidNonce, run: (ex) => ex.fetchBalance(), setup: () => fake.setClockOffset(-2000) },
      { label: '10003 unknown key', cls: ccxt.AuthenticationError, run: () => localBybit(fake.origin, { apiKey: 'ghost', secret: 'x' }).fetchBalance() },
      { label: '10004 bad sign', cls: ccxt.AuthenticationError, run: (_ex, key) => localBybit(fake.origin, { apiKey: key, secret: 'bad' }).fetchBalance() },
      { label: '10006 rate limit', cls: ccxt.RateLimitExceeded, run: cost(60), setup: () => void fake.injectFault({ kind: 'rateLimit' }, { times: 1, path: '/v5/order/create' }) },
      { label: '170131 insufficient balance', cls: ccxt.InsufficientFunds, run: cost(500) },
      { label: '170140 order value below minimum', cls: ccxt.InvalidOrder, run: cost(2) },
      { label: '170141 duplicate orderLinkId', cls: ccxt.InvalidOrder, run: cost(10, { clientOrderId: 'dup-x' }), setup: (ex) => cost(10, { clientOrderId: 'dup-x' })(ex) },
      { label: '170213 cancel unknown order', cls: ccxt.OrderNotFound, run: (ex) => ex.cancelOrder('424242', 'BTC/USDT') },
      { label: '10016 server error', cls: ccxt.ExchangeError, run: cost(60), setup: () => void fake.injectFault({ kind: 'respond', status: 200, body: { retCode: 10016, retMsg: 'Server error.', result: {}, retExtInfo: {}, time: 1 } }, { times: 1, path: '/v5/order/create' }) },
      { label: 'HTTP 403 non-JSON (IP ban)', cls: ccxt.RateLimitExceeded, run: cost(60), setup: () => void fake.banIp(1) },
      { label: 'JSON without retCode', cls: ccxt.ExchangeError, run: cost(60), setup: () => void fake.injectFault({ kind: 'respond', status: 200, body: { ok: true } }, { times: 1, path: '/v5/order/create' }) },
      { label: 'HTTP 502 plain text', cls: ccxt.ExchangeNotAvailable, run: cost(60), setup: () => void fake.injectFault({ kind: 'respond', status: 502, body: 'Bad Gateway', headers: { 'content-type': 'text/plain' } }, { times: 1, path: '/v5/order/create' }) },
    ];
    for (const c of cases) {
      it(`${c.label} → ${c.cls.name}`, async () => {
        const { ex, key } = client({ USDT: 100 });
        await ex.loadMarkets();
        await c.setup?.(ex);
        const before = fake.orders(key).length;
        const error = await rejectsWith(c.run(ex, key), c.cls);
        const code = c.label.split(' ')[0]!;
        if (/^\d+$/.test(code)) assert.match(error.message, new RegExp(`"retCode":${code}[,}]`));
        assert.equal(fake.orders(key).length, before);
      });
    }
  });
});
