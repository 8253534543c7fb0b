/**
 * The fake Bybit v5 linear perpetuals API driven by the real ccxt.bybit over HTTP: header signing, the
 * retCode envelope, set-leverage / switch-mode / account-wide set-margin-mode with their "not modified"
 * codes, a short with reduce-only trigger orders (triggerDirection), the mark moving through the
 * take-profit, position-level TP/SL (trading-stop), liquidation, 110017 / 110094 / 110007, orderLinkId
 * unique for ever (110072), hedge mode's positionIdx, and a timeout after placing resolved by a lookup.
 */
import assert from 'node:assert/strict';
import ccxt, { type Exchange } from 'ccxt';
import { FakeBybitLinear } from './support/fake-exchange/bybit-linear/server.js';
import { localBybitLinear } from './support/fake-exchange/futures/ccxt-clients.js';
import { rejectsWith } from './support/rejects.js';
import { serve } from './support/serve.js';

const S = 'BTC/USDT:USDT';

describe('fake Bybit v5 linear driven by real ccxt.bybit', function () {
  this.timeout(15_000);
  const fake = new FakeBybitLinear();
  let seq = 0;

  async function client(usdt = 1000, timeout = 3000): Promise<{ key: string; ex: Exchange }> {
    seq += 1;
    const key = `bl-key-${seq}`;
    fake.addAccount(key, `bl-secret-${seq}`, { USDT: usdt });
    const ex = localBybitLinear(fake.origin, { apiKey: key, secret: `bl-secret-${seq}`, timeout });
    await ex.loadMarkets();
    return { key, ex };
  }
  const byLinkId = async (ex: Exchange, link: string) => (await ex.fetchOpenOrders(S, undefined, undefined, { orderLinkId: link })).find((o) => o.clientOrderId === link);

  serve(fake);
  beforeEach(() => {
    fake.clearFaults();
    fake.setMarkPrice(S, 60_000);
  });

  it('loadMarkets lists the linear perpetuals (qtyStep, tickSize, minNotionalValue) and nothing goes unserved', async () => {
    fake.resetCounters();
    const { ex } = await client();
    const m = ex.market(S);
    assert.deepEqual([m.swap, m.linear, m.settle, m.precision.amount, m.precision.price, m.limits.cost?.min], [true, true, 'USDT', 0.001, 0.1, 5]);
    await ex.fetchPositions([S]);
    await ex.fetchBalance();
    assert.deepEqual(fake.unhandledRequests(), []);
  });

  it('refuses a wrong signature (10004) and an unknown key (10003) as AuthenticationError', async () => {
    const { key } = await client();
    const wrong = localBybitLinear(fake.origin, { apiKey: key, secret: 'not-the-secret' });
    await rejectsWith(wrong.fetchPositions([S]), ccxt.AuthenticationError, { retCode: 10004 });
    const stranger = localBybitLinear(fake.origin, { apiKey: 'nobody', secret: 'x' });
    await rejectsWith(stranger.fetchPositions([S]), ccxt.AuthenticationError, { retCode: 10003 });
  });

  it('set-leverage once, then 110043 (BadRequest); margin mode is account-wide and 110026 when unchanged; switch-mode 110025', async () => {
    const { key, ex } = await client();
    await ex.setLeverage(10, S);
    await rejectsWith(ex.setLeverage(10, S), ccxt.BadRequest, { retCode: 110043 });
    await ex.setMarginMode('isolated', S);
    const account = fake.futuresAccount(key);
    assert.deepEqual([account.marginMode.get('BTCUSDT'), account.marginMode.get('ETHUSDT')], ['ISOLATED', 'ISOLATED'], 'one setting for every contract');
    await rejectsWith(ex.setMarginMode('isolated', 'ETH/USDT:USDT'), ccxt.MarginModeAlreadySet, { retCode: 110026 });
    await rejectsWith(ex.setPositionMode(false, S), ccxt.NoChange, { retCode: 110025 });
  });

  it('a short with reduce-only SL/TP trigger orders; the mark falls through the TP: filled under its own orderLinkId, position closed, PnL in executions and closed-pnl', async () => {
    const { key, ex } = await client(1000);
    await ex.setLeverage(10, S);
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-entry-1' });
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 61_000, reduceOnly: true, clientOrderId: 'bl-sl-1' });
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { takeProfitPrice: 58_000, reduceOnly: true, clientOrderId: 'bl-tp-1' });
    const sl = (await byLinkId(ex, 'bl-sl-1'))!;
    const tp = (await byLinkId(ex, 'bl-tp-1'))!;
    assert.deepEqual([sl.status, sl.triggerPrice, sl.reduceOnly, (sl.info as { triggerDirection: number }).triggerDirection], ['open', 61_000, true, 1]);
    assert.deepEqual([tp.status, (tp.info as { triggerDirection: number }).triggerDirection], ['open', 2]);
    fake.setMarkPrice(S, 59_500);
    const [p] = await ex.fetchPositions([S]);
    assert.deepEqual([p?.side, p?.contracts, p?.entryPrice, p?.unrealizedPnl, p?.hedged], ['short', 0.01, 60_000, 5, false]);

    fake.setMarkPrice(S, 57_900);
    const fired = (await byLinkId(ex, 'bl-tp-1'))!;
    assert.deepEqual([fired.status, fired.filled, fired.average], ['closed', 0.01, 57_900]);
    assert.equal((await ex.fetchPositions([S]))[0]?.contracts, 0);
    const trades = await ex.fetchMyTrades(S);
    assert.deepEqual(trades.map((t) => [t.side, t.price, t.amount, (t.info as { orderLinkId: string }).orderLinkId]), [['sell', 60_000, 0.01, 'bl-entry-1'], ['buy', 57_900, 0.01, 'bl-tp-1']]);
    const closed = await ex.fetchPositionsHistory([S]);
    assert.equal(closed.length, 1);
    // 21 USDT on the price minus the closing fee 0.01 × 57,900 × 0.00055.
    assert.ok(Math.abs(Number(closed[0]?.realizedPnl) - (21 - 0.318_45)) < 1e-9, String(closed[0]?.realizedPnl));
    assert.equal(Number(fake.wallet(key)), 1000 - 0.33 + 21 - 0.318_45);
    assert.equal((await byLinkId(ex, 'bl-sl-1'))?.status, 'open', 'the reduce-only SL stays until cancelled');
    await ex.cancelOrder(undefined as unknown as string, S, { orderLinkId: 'bl-sl-1' });
    assert.equal((await byLinkId(ex, 'bl-sl-1'))?.status, 'canceled');
  });

  it('trigger orders need the right triggerDirection (110092 / 110093) and a reduce-only market order that would open is 110017', async () => {
    const { ex } = await client();
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { triggerPrice: 59_000, triggerDirection: 'ascending' }), ccxt.InvalidOrder, { retCode: 110092 });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { triggerPrice: 61_000, triggerDirection: 'descending' }), ccxt.InvalidOrder, { retCode: 110093 });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { reduceOnly: true }), ccxt.InvalidOrder, { retCode: 110017 });
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, {});
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { reduceOnly: true }), ccxt.InvalidOrder, { retCode: 110017 });
  });

  it('below the minimum notional is 110094; more than the margin allows is 110007', async () => {
    const { ex } = await client(20);
    fake.setMarkPrice(S, 1000);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.001, undefined, {}), ccxt.InvalidOrder, { retCode: 110094 });
    fake.setMarkPrice(S, 60_000);
    await ex.setLeverage(1, S);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, {}), ccxt.InsufficientFunds, { retCode: 110007 });
  });

  it('orderLinkId is unique for ever: reusing a filled entry id is 110072', async () => {
    const { key, ex } = await client();
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-once' });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-once' }), ccxt.InvalidOrder, { retCode: 110072 });
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 62_000, reduceOnly: true, clientOrderId: 'bl-once' }), ccxt.InvalidOrder, { retCode: 110072 });
    assert.equal(fake.futuresAccount(key).orders.filter((o) => o.clientId === 'bl-once').length, 1);
  });

  it('position-level TP/SL through trading-stop (SL and TP together) close the whole position when the mark rises through the TP', async () => {
    const { key, ex } = await client();
    await ex.createOrder(S, 'market', 'buy', 0.02, undefined, {});
    await ex.createOrder(S, 'market', 'buy', undefined as unknown as number, undefined, { stopLossPrice: 58_000, takeProfitPrice: 62_000, positionIdx: 0 });
    assert.equal(fake.requestCount('/v5/position/trading-stop', 'POST'), 1);
    const [p] = await ex.fetchPositions([S]);
    assert.deepEqual([p?.stopLossPrice, p?.takeProfitPrice], [58_000, 62_000]);
    fake.setMarkPrice(S, 62_100);
    assert.equal((await ex.fetchPositions([S]))[0]?.contracts, 0);
    assert.deepEqual(fake.futuresAccount(key).conditionals.map((c) => [c.tpsl, c.status]), [['TP', 'FINISHED'], ['SL', 'CANCELED']]);
  });

  it('cross 50x long is liquidated when the mark falls to maintenance', async () => {
    const { key, ex } = await client(100);
    await ex.setLeverage(50, S);
    await ex.createOrder(S, 'market', 'buy', 0.05, undefined, {});
    fake.setMarkPrice(S, 58_500);
    assert.equal((await ex.fetchPositions([S]))[0]?.contracts, 0.05);
    fake.setMarkPrice(S, 58_200);
    assert.equal((await ex.fetchPositions([S]))[0]?.contracts, 0);
    const orders = fake.futuresAccount(key).orders;
    assert.equal(orders.at(-1)?.type, 'LIQUIDATION');
    assert.equal(fake.wallet(key), '0.00000000');
  });

  it('hedge mode: positionIdx 1/2 is required (10001 otherwise); ccxt hedged:true sends it and a reduce-only close works', async () => {
    const { ex } = await client();
    await ex.setPositionMode(true, S);
    await rejectsWith(ex.createOrder(S, 'market', 'buy', 0.01, undefined, {}), ccxt.BadRequest, { retCode: 10001 });
    await ex.createOrder(S, 'market', 'buy', 0.01, undefined, { hedged: true });
    await ex.createOrder(S, 'market', 'sell', 0.02, undefined, { hedged: true });
    const sides = (await ex.fetchPositions([S])).map((p) => [p.side, p.contracts, p.hedged]);
    assert.deepEqual(sides, [['long', 0.01, true], ['short', 0.02, true]]);
    await rejectsWith(ex.setPositionMode(false, S), ccxt.BadRequest, { retCode: 110024 });
    await ex.createOrder(S, 'market', 'sell', 0.01, undefined, { hedged: true, reduceOnly: true });
    assert.deepEqual((await ex.fetchPositions([S])).map((p) => p.contracts), [0, 0.02]);
  });

  it('faults: the rate limit is 10006 RateLimitExceeded and a skewed clock is 10002 InvalidNonce', async () => {
    const { ex } = await client();
    fake.injectFault({ kind: 'rateLimit' }, { path: '/v5/position/list', times: 1 });
    await rejectsWith(ex.fetchPositions([S]), ccxt.RateLimitExceeded, { retCode: 10006 });
    fake.setClockOffset(-20_000);
    try {
      await rejectsWith(ex.fetchPositions([S]), ccxt.InvalidNonce, { retCode: 10002 });
    } finally {
      fake.setClockOffset(0);
    }
  });

  it('one key never sees or cancels another key\'s orders; its own orderLinkIds are its own', async () => {
    const owner = await client();
    const other = await client();
    await owner.ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-own-e' });
    await owner.ex.createOrder(S, 'market', 'buy', 0.01, undefined, { stopLossPrice: 61_000, reduceOnly: true, clientOrderId: 'bl-own-sl' });
    assert.equal(await byLinkId(other.ex, 'bl-own-sl'), undefined);
    await rejectsWith(other.ex.cancelOrder(undefined as unknown as string, S, { orderLinkId: 'bl-own-sl' }), ccxt.OrderNotFound, { retCode: 110001 });
    await other.ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-own-e' });
    assert.equal((await byLinkId(owner.ex, 'bl-own-sl'))?.status, 'open');
  });

  it('a timeout after placing: the order exists and the realtime lookup by orderLinkId finds it', async () => {
    const { key, ex } = await client(1000, 800);
    fake.injectFault({ kind: 'placeThenTimeout' }, { path: '/v5/order/create', method: 'POST', times: 1 });
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-t' }), ccxt.RequestTimeout);
    assert.equal(fake.futuresAccount(key).orders.filter((o) => o.clientId === 'bl-t').length, 1);
    assert.deepEqual(await byLinkId(ex, 'bl-t').then((o) => [o?.status, o?.filled]), ['closed', 0.01]);
    await rejectsWith(ex.createOrder(S, 'market', 'sell', 0.01, undefined, { clientOrderId: 'bl-t' }), ccxt.InvalidOrder, { retCode: 110072 });
  });
});
