/**
 * The fake Binance USDⓈ-M futures API driven by the real ccxt.binanceusdm over HTTP (ccxt keeps its
 * https://fapi.binance.com URLs; a fetchImplementation sends them to the fake, so ccxt's futures error table
 * maps the answers as in production): signatures, leverage / margin type / position mode and their "already
 * set" answers, a short with a reduce-only stop-loss and take-profit on /fapi/v1/algoOrder, the mark moving
 * through the take-profit, liquidation, reduce-only and hedge-mode rules, client-id rules, and a timeout after
 * placing that a lookup resolves.
 */
import assert from 'node:assert/strict';
import ccxt, { type Exchange } from 'ccxt';
import { FakeBinanceFutures } from './support/fake-exchange/binance-futures/server.js';
import { localBinanceUsdm } from './support/fake-exchange/futures/ccxt-clients.js';
import { rejectsWith } from './support/rejects.js';
import { serve } from './support/serve.js';

const S = 'BTC/USDT:USDT';

describe('fake Binance USDⓈ-M futures driven by real ccxt.binanceusdm', function () {
  this.timeout(15_000);
  const fake = new FakeBinanceFutures();
  let seq = 0;

  async function client(usdt = 1000, timeout = 3000): Promise<{ key: string; ex: Exchange }> {
    seq += 1;
    const key = `bf-key-${seq}`;
    fake.addAccount(key, `bf-secret-${seq}`, { USDT: usdt });
    const ex = localBinanceUsdm(fake.origin, { apiKey: key, secret: `bf-secret-${seq}`, timeout });
    await ex.loadMarkets();
    return { key, ex };
  }

  serve(fake);
  beforeEach(() => {
    fake.clearFaults();
    fake.setMarkPrice(S, 60_000);
    fake.setMarkPrice('ETH/USDT:USDT', 3_000);
  });

  it('loadMarkets lists the perpetuals with MIN_NOTIONAL and the conditional order types, and nothing goes unserved', async () => {
    fake.resetCounters();
    const { ex } = await client();
    const m = ex.market(S);
    assert.equal(m.swap, true);
    assert.equal(m.linear, true);
    assert.equal(m.limits.cost?.min, 100);
    assert.deepEqual([m.precision.amount, m.precision.price], [0.001, 0.1]);
    assert.ok((m.info as { orderTypes: string[] }).orderTypes.includes('STOP_MARKET'));
    await ex.fetchPositions([S]);
    assert.deepEqual(fake.unhandledRequests(), []);
    assert.equal(fake.requestCount('/fapi/v1/leverageBracket'), 1);
  });

  it('refuses a wrong signature (-1022 AuthenticationError) and an unknown key (-2015)', async () => {
    const { key } = await client();
    const wrong = localBinanceUsdm(fake.origin, { apiKey: key, secret: 'not-the-secret' });
    await wrong.loadMarkets();
    await rejectsWith(wrong.fetchPositions([S]), ccxt.AuthenticationError, { code: -1022 });
    const stranger = localBinanceUsdm(fake.origin, { apiKey: 'nobody', secret: 'x' });
    await stranger.loadMarkets();
    await rejectsWith(stranger.fetchBalance(), ccxt.AuthenticationError, { code: -2015 });
  });

  it('leverage and margin type are set once; "already set" is -4046 / -4059; 0 or 200x is refused', async () => {
    const { key, ex } = await client();
    await ex.setLeverage(7, S);
    assert.equal(fake.futuresAccount(key).leverage.get('BTCUSDT'), 7);
    await ex.setLeverage(7, S); // Binance answers success when unchanged
    await ex.setMarginMode('isolated', S);
    assert.equal(fake.futuresAccount(key).marginMode.get('BTCUSDT'), 'ISOLATED');
    const again = await ex.setMarginMode('isolated', S, { }).catch((e: Error) => e);
    // ccxt either throws MarginModeAlreadySet or returns the -4046 body, depending on its option.
    assert.ok(again instanceof ccxt.MarginModeAlreadySet || (again as { code?: number }).code === -4046, String(again));
    await rejectsWith(ex.setPositionMode(false), ccxt.OperationRejected, { code: -4059 });
    await rejectsWith(ex.setLeverage(200, S), ccxt.BadRequest);
    await rejectsWith(ex.setLeverage(126, 'ETH/USDT:USDT'), ccxt.BadRequest);
  });

  it('a short with a reduce-only SL and TP on algoOrder; the mark falls through the TP: position closed, realised PnL and fees in trades and income', async () => {
    const { key, ex } = await client(1000);
    await ex.setLeverage(10, S);
    const entry = await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-entry-1' });
    assert.deepEqual([entry.status, entry.filled, entry.average, entry.clientOrderId], ['closed', 0.01, 60_000, 'bf-entry-1']);
    const sl = await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 61_000, reduceOnly: true, clientOrderId: 'bf-sl-1' });
    const tp = await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { takeProfitPrice: 58_000, reduceOnly: true, clientOrderId: 'bf-tp-1' });
    assert.equal(fake.requestCount('/fapi/v1/algoOrder', 'POST'), 2);
    assert.deepEqual([sl.status, sl.clientOrderId, sl.triggerPrice, tp.status], ['open', 'bf-sl-1', 61_000, 'open']);
    const algo = fake.futuresAccount(key).conditionals.map((c) => [c.clientId, c.type, c.reduceOnly, c.direction]);
    assert.deepEqual(algo, [['bf-sl-1', 'STOP_MARKET', true, 'up'], ['bf-tp-1', 'TAKE_PROFIT_MARKET', true, 'down']]);

    fake.setMarkPrice(S, 59_000);
    const [open] = await ex.fetchPositions([S]);
    assert.deepEqual([open?.side, open?.contracts, open?.entryPrice, open?.unrealizedPnl], ['short', 0.01, 60_000, 10]);

    fake.setMarkPrice(S, 57_900);
    const fired = await ex.fetchOrder('', S, { clientOrderId: 'bf-tp-1', trigger: true });
    assert.equal(fired.status, 'closed');
    assert.equal(fired.filled, 0, 'an algo order never reports a fill itself');
    const actual = await ex.fetchOrder(String((fired.info as { actualOrderId: string }).actualOrderId), S);
    assert.deepEqual([actual.status, actual.filled, actual.average, actual.reduceOnly], ['closed', 0.01, 57_900, true]);
    assert.deepEqual(await ex.fetchPositions([S]), []);
    // The reduce-only SL is not removed by the venue: it stays open until cancelled.
    assert.equal((await ex.fetchOrder('', S, { clientOrderId: 'bf-sl-1', trigger: true })).status, 'open');
    await ex.cancelOrder('', S, { clientOrderId: 'bf-sl-1', trigger: true });
    assert.equal((await ex.fetchOrder('', S, { clientOrderId: 'bf-sl-1', trigger: true })).status, 'canceled');

    const trades = await ex.fetchMyTrades(S);
    assert.deepEqual(trades.map((t) => [t.side, t.price, (t.info as { realizedPnl: string }).realizedPnl]), [['sell', 60_000, '0'], ['buy', 57_900, '21']]);
    const income = (await (ex as unknown as { fapiPrivateGetIncome(p: object): Promise<{ incomeType: string; income: string }[]> }).fapiPrivateGetIncome({ symbol: 'BTCUSDT' }));
    assert.deepEqual(income.map((i) => [i.incomeType, i.income]), [['COMMISSION', '-0.24'], ['REALIZED_PNL', '21'], ['COMMISSION', '-0.2316']]);
    assert.equal(fake.wallet(key), '1020.52840000');
  });

  it('one-way mode: a sell larger than the long closes it (realising PnL) and opens a short with the rest at the new price', async () => {
    const { key, ex } = await client(1000);
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, {});
    fake.setMarkPrice(S, 61_000);
    await ex.createOrder(S, 'market', 'sell', 0.03, undefined, {});
    const [p] = await ex.fetchPositions([S]);
    assert.deepEqual([p?.side, p?.contracts, p?.entryPrice], ['short', 0.02, 61_000]);
    const trades = await ex.fetchMyTrades(S);
    assert.equal((trades.at(-1)?.info as { realizedPnl: string }).realizedPnl, '10');
    // 1000 − 0.24 (open fee) + 10 − 0.732 (0.03 × 61,000 × 0.04 %)
    assert.equal(fake.wallet(key), '1009.02800000');
  });

  it('without trigger:true a conditional order is a false "not found" (-2013 on /fapi/v1/order)', async () => {
    const { ex } = await client();
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-e2' });
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 62_000, reduceOnly: true, clientOrderId: 'bf-sl-2' });
    await rejectsWith(ex.fetchOrder('', S, { clientOrderId: 'bf-sl-2' }), ccxt.OrderNotFound, { code: -2013 });
    assert.equal((await ex.fetchOrder('', S, { clientOrderId: 'bf-sl-2', trigger: true })).status, 'open');
  });

  it('a stop type sent to /fapi/v1/order is -4120; a stop already crossed is -2021', async () => {
    const { ex } = await client();
    const raw = ex as unknown as { fapiPrivatePostOrder(p: object): Promise<unknown> };
    await rejectsWith(raw.fapiPrivatePostOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', quantity: '0.01', stopPrice: '59000' }), ccxt.ExchangeError, { code: -4120 });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { stopLossPrice: 60_500, reduceOnly: true }), ccxt.OrderImmediatelyFillable, { code: -2021 });
  });

  it('reduce-only that would open is -2022; below MIN_NOTIONAL is -4164; too little margin is -2019', async () => {
    const { ex } = await client(50);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { reduceOnly: true }), ccxt.InvalidOrder, { code: -2022 });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.001, undefined, {}), ccxt.InvalidOrder, { code: -4164 });
    await ex.setLeverage(2, S);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, {}), ccxt.InsufficientFunds, { code: -2019 });
  });

  it('isolated 20x long is liquidated when the mark falls to its maintenance margin; the whole margin is lost', async () => {
    const { key, ex } = await client(1000);
    await ex.setMarginMode('isolated', S);
    await ex.setLeverage(20, S);
    await ex.createOrder(S, 'market', 'buy', 0.1, undefined, { clientOrderId: 'bf-long' });
    const [p] = await ex.fetchPositions([S]);
    const liq = Number(p?.liquidationPrice);
    assert.ok(liq > 57_000 && liq < 57_500, `liquidation price ${liq}`);
    const walletAfterEntry = Number(fake.wallet(key));
    assert.ok(Math.abs(walletAfterEntry - (1000 - 300 - 2.4)) < 1e-6, `wallet ${walletAfterEntry}`);
    fake.setMarkPrice(S, Math.ceil(liq) + 20);
    assert.equal((await ex.fetchPositions([S])).length, 1, 'just above the liquidation price the position lives');
    fake.setMarkPrice(S, Math.floor(liq) - 1);
    assert.deepEqual(await ex.fetchPositions([S]), []);
    const liquidation = fake.futuresAccount(key).orders.at(-1)!;
    assert.match(liquidation.clientId, /^autoclose-/);
    assert.equal(Number(fake.wallet(key)), walletAfterEntry, 'an isolated liquidation costs the position margin and nothing more');
  });

  it('hedge mode: positionSide is required (-4061) and reduceOnly is refused (-1106); ccxt hedged:true does it right', async () => {
    const { key, ex } = await client(1000);
    await ex.setPositionMode(true);
    assert.equal((await ex.fetchPositionMode(S)).hedged, true);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, {}), ccxt.OperationRejected, { code: -4061 });
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { hedged: true });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { positionSide: 'LONG', reduceOnly: true }), ccxt.BadRequest, { code: -1106 });
    // ccxt flips a hedged reduce-only order: a SELL closing LONG.
    const sl = await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { stopLossPrice: 59_000, reduceOnly: true, hedged: true, clientOrderId: 'bf-h-sl2' });
    assert.equal((sl.info as { positionSide: string }).positionSide, 'LONG');
    await rejectsWith(ex.setPositionMode(false), ccxt.ExchangeError);
    fake.setMarkPrice(S, 58_900);
    assert.deepEqual(await ex.fetchPositions([S]), []);
    assert.equal(fake.futuresAccount(key).conditionals.find((c) => c.clientId === 'bf-h-sl2')?.status, 'FINISHED');
  });

  it('client ids: a duplicate among open algo orders is -4116; a filled market id can be reused (unique among open orders only)', async () => {
    const { key, ex } = await client(2000);
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-dup' });
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-dup' });
    assert.equal(fake.futuresAccount(key).orders.filter((o) => o.clientId === 'bf-dup').length, 2, 'a resent filled entry fills again');
    await ex.createOrder(S, 'market', 'buy', 0.02, undefined, { stopLossPrice: 63_000, reduceOnly: true, clientOrderId: 'bf-algo-dup' });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.02, undefined, { stopLossPrice: 63_500, reduceOnly: true, clientOrderId: 'bf-algo-dup' }), ccxt.InvalidOrder, { code: -4116 });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'has space' }), ccxt.BadRequest, { code: -1100 });
  });

  it('a timeout after placing: the algo order exists and a lookup by clientAlgoId finds it', async () => {
    const { key, ex } = await client(1000, 800);
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-e-t' });
    fake.injectFault({ kind: 'placeThenTimeout' }, { path: '/fapi/v1/algoOrder', method: 'POST', times: 1 });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 61_000, reduceOnly: true, clientOrderId: 'bf-sl-t' }), ccxt.RequestTimeout);
    assert.equal(fake.futuresAccount(key).conditionals.filter((c) => c.clientId === 'bf-sl-t').length, 1);
    const found = await ex.fetchOrder('', S, { clientOrderId: 'bf-sl-t', trigger: true });
    assert.deepEqual([found.status, found.clientOrderId, found.triggerPrice], ['open', 'bf-sl-t', 61_000]);
  });

  it('faults: 429 is DDoSProtection, a skewed clock is -1021 InvalidNonce, and a request slower than the client lands after it gave up', async () => {
    const { key, ex } = await client(1000, 600);
    fake.injectFault({ kind: 'rateLimit' }, { path: '/fapi/v3/positionRisk', times: 1 });
    await rejectsWith(ex.fetchPositions([S]), ccxt.DDoSProtection);
    fake.setClockOffset(-20_000);
    try {
      await rejectsWith(ex.fetchPositions([S]), ccxt.InvalidNonce, { code: -1021 });
    } finally {
      fake.setClockOffset(0);
    }
    fake.injectFault({ kind: 'latency', ms: 1200 }, { path: '/fapi/v1/order', method: 'POST', times: 1 });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-late' }), ccxt.RequestTimeout);
    assert.equal(fake.futuresAccount(key).orders.length, 0, 'not there yet when the client gives up');
    const deadline = Date.now() + 5000;
    while (fake.futuresAccount(key).orders.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await ex.fetchOrder('', S, { clientOrderId: 'bf-late' })).status, 'closed', 'a lookup later finds the late order');
  });

  it('one key never sees, cancels or closes another key\'s orders and positions', async () => {
    const owner = await client(1000);
    const other = await client(1000);
    await owner.ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-own-e' });
    await owner.ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 61_000, reduceOnly: true, clientOrderId: 'bf-own-sl' });
    await rejectsWith(other.ex.fetchOrder('', S, { clientOrderId: 'bf-own-sl', trigger: true }), ccxt.OrderNotFound, { code: -2013 });
    await rejectsWith(other.ex.fetchOrder('', S, { clientOrderId: 'bf-own-e' }), ccxt.OrderNotFound, { code: -2013 });
    await rejectsWith(other.ex.cancelOrder('', S, { clientOrderId: 'bf-own-sl', trigger: true }), ccxt.OrderNotFound, { code: -2011 });
    await rejectsWith(other.ex.createOrder(S, 'market', 'buy', 0.01, undefined, { reduceOnly: true }), ccxt.InvalidOrder, { code: -2022 });
    assert.deepEqual(await other.ex.fetchPositions([S]), []);
    assert.equal((await owner.ex.fetchOrder('', S, { clientOrderId: 'bf-own-sl', trigger: true })).status, 'open');
  });

  it('a 503 after placing a market order: the lookup by origClientOrderId shows the fill', async () => {
    const { ex } = await client(1000);
    fake.injectFault({ kind: 'processThenRespond', status: 503 }, { path: '/fapi/v1/order', method: 'POST', times: 1 });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bf-503' }), ccxt.ExchangeNotAvailable);
    const found = await ex.fetchOrder('', S, { clientOrderId: 'bf-503' });
    assert.deepEqual([found.status, found.filled], ['closed', 0.01]);
  });
});
