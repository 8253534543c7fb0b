/**
 * The fake Binance's per-symbol order types and OCO order lists, through the real ccxt.binance:
 * a symbol without market stops (like real BTCUSDT) is refused by ccxt before sending and by the fake
 * with Binance's -2010 body when sent raw; OCO lists are placed, looked up, cancelled and executed as
 * Binance does (price relations, shared funds, one leg executing expires the other).
 */
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { FakeBinance, localBinance } from './support/fake-exchange.js';
import { BTCUSDT_ORDER_TYPES } from './support/fake-exchange/markets.js';
import { rejectsWith } from './support/rejects.js';
import { serve } from './support/serve.js';

type Binance = ReturnType<typeof localBinance>;
type Raw = Record<string, unknown>;
type Implicit = {
  privatePostOrder(p: Raw): Promise<Raw>;
  privatePostOrderListOco(p: Raw): Promise<Raw>;
  privateGetOrderList(p: Raw): Promise<Raw>;
  privateDeleteOrderList(p: Raw): Promise<Raw>;
};

describe('fake Binance: per-symbol order types and OCO order lists (real ccxt)', function () {
  this.timeout(10_000);
  const fake = new FakeBinance({
    duplicateClientIdMode: 'binance',
    markets: [{ base: 'BTC', quote: 'USDT', price: '60000', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', maxQty: '9000', minNotional: '5', orderTypes: BTCUSDT_ORDER_TYPES }],
  });
  let seq = 0;
  function account(balances: Record<string, number> = { BTC: 0.01, USDT: 1000 }): { key: string; ex: Binance; api: Implicit } {
    seq += 1;
    const key = `oco-key-${seq}`;
    fake.addAccount(key, `oco-secret-${seq}`, balances);
    const ex = localBinance(fake.origin, { apiKey: key, secret: `oco-secret-${seq}` });
    return { key, ex, api: ex as unknown as Implicit };
  }
  const oco = (over: Raw = {}): Raw => ({
    symbol: 'BTCUSDT', side: 'SELL', quantity: '0.01', listClientOrderId: 'list-1',
    aboveType: 'LIMIT_MAKER', abovePrice: '66000', aboveClientOrderId: 'leg-tp',
    belowType: 'STOP_LOSS_LIMIT', belowStopPrice: '57000', belowPrice: '56700', belowTimeInForce: 'GTC', belowClientOrderId: 'leg-sl',
    ...over,
  });

  serve(fake);
  beforeEach(() => { fake.setPrice('BTC/USDT', 60_000); });

  it('lists the symbol\'s orderTypes; ccxt refuses a market stop before sending, the fake refuses a raw STOP_LOSS with -2010', async () => {
    const { key, ex, api } = account();
    const markets = await ex.loadMarkets();
    assert.deepEqual((markets['BTC/USDT']!.info as Raw).orderTypes, [...BTCUSDT_ORDER_TYPES]);
    fake.resetCounters();
    await rejectsWith(ex.createOrder('BTC/USDT', 'market', 'sell', 0.001, undefined, { stopLossPrice: 57000 }), ccxt.InvalidOrder, /triggerPrice parameter is not allowed/);
    assert.equal(fake.requestCount('/api/v3/order', 'POST'), 0);
    await rejectsWith(api.privatePostOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_LOSS', quantity: '0.001', stopPrice: '57000' }), ccxt.InvalidOrder, /"code":-2010,"msg":"Stop loss orders are not supported for this symbol."/);
    await rejectsWith(api.privatePostOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'TAKE_PROFIT', quantity: '0.001', stopPrice: '66000' }), ccxt.InvalidOrder, /Take profit orders are not supported for this symbol/);
    const sl = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.001, 56700, { stopLossPrice: 57000 });
    assert.equal((sl.info as Raw).type, 'STOP_LOSS_LIMIT');
    assert.deepEqual(fake.orders(key).map((o) => o.type), ['STOP_LOSS_LIMIT']);
  });

  it('places an OCO list holding the quantity once, answers Binance\'s list shape, and finds it by listClientOrderId', async () => {
    const { key, api } = account();
    const res = await api.privatePostOrderListOco(oco());
    assert.equal(res.contingencyType, 'OCO');
    assert.deepEqual([res.listStatusType, res.listOrderStatus, res.listClientOrderId], ['EXEC_STARTED', 'EXECUTING', 'list-1']);
    const reports = res.orderReports as Raw[];
    assert.deepEqual(reports.map((r) => [r.type, r.clientOrderId, r.orderListId, r.status]), [['STOP_LOSS_LIMIT', 'leg-sl', res.orderListId, 'NEW'], ['LIMIT_MAKER', 'leg-tp', res.orderListId, 'NEW']]);
    assert.deepEqual((res.orders as Raw[]).map((o) => o.clientOrderId), ['leg-sl', 'leg-tp']);
    assert.deepEqual(fake.balances(key).BTC, { free: '0.00000000', locked: '0.01000000' });
    const found = await api.privateGetOrderList({ origClientOrderId: 'list-1' });
    assert.equal(found.orderListId, res.orderListId);
    assert.equal(found.orderReports, undefined);
    await rejectsWith(api.privateGetOrderList({ origClientOrderId: 'no-such-list' }), ccxt.OrderNotFound, /-2013/);
  });

  it('enforces the price relations, the legs\' sides, the symbol\'s types and client id uniqueness among open lists/orders', async () => {
    const { key, api } = account({ BTC: 1 });
    await rejectsWith(api.privatePostOrderListOco(oco({ abovePrice: '59000' })), ccxt.InvalidOrder, /The relationship of the prices for the orders is not correct/);
    await rejectsWith(api.privatePostOrderListOco(oco({ belowStopPrice: '61000', belowPrice: '60900' })), ccxt.InvalidOrder, /The relationship of the prices/);
    await rejectsWith(api.privatePostOrderListOco(oco({ aboveType: 'STOP_LOSS_LIMIT', aboveStopPrice: '66000', aboveTimeInForce: 'GTC', belowType: 'LIMIT_MAKER', belowPrice: '57000' })), ccxt.ExchangeError, /-1197/);
    await rejectsWith(api.privatePostOrderListOco(oco({ belowType: 'STOP_LOSS', belowPrice: undefined, belowTimeInForce: undefined })), ccxt.InvalidOrder, /Stop loss orders are not supported for this symbol/);
    await api.privatePostOrderListOco(oco());
    await rejectsWith(api.privatePostOrderListOco(oco({ aboveClientOrderId: 'leg-tp2', belowClientOrderId: 'leg-sl2' })), ccxt.InvalidOrder, /Duplicate order sent/);
    await rejectsWith(api.privatePostOrderListOco(oco({ listClientOrderId: 'list-2' })), ccxt.InvalidOrder, /Duplicate order sent/);
    await rejectsWith(api.privatePostOrderListOco(oco({ listClientOrderId: 'list-3', quantity: '1', aboveClientOrderId: 'a3', belowClientOrderId: 'b3' })), ccxt.InsufficientFunds, /insufficient balance/);
    assert.equal(fake.orders(key).length, 2);
  });

  it('the stop leg firing fills it and expires the take-profit leg; the list is then ALL_DONE and cannot be cancelled', async () => {
    const { key, api } = account();
    await api.privatePostOrderListOco(oco());
    fake.setPrice('BTC/USDT', 56_900);
    assert.deepEqual(fake.orders(key).map((o) => [o.clientOrderId, o.status]), [['leg-sl', 'FILLED'], ['leg-tp', 'EXPIRED']]);
    assert.deepEqual(fake.balances(key).BTC, { free: '0.00000000', locked: '0.00000000' });
    assert.equal(fake.balances(key).USDT!.free, '1569.00000000');
    const list = await api.privateGetOrderList({ origClientOrderId: 'list-1' });
    assert.deepEqual([list.listStatusType, list.listOrderStatus], ['ALL_DONE', 'ALL_DONE']);
    await rejectsWith(api.privateDeleteOrderList({ symbol: 'BTCUSDT', listClientOrderId: 'list-1' }), ccxt.OrderNotFound, /-2011/);
  });

  it('the take-profit leg filling expires the stop leg', async () => {
    const { key, api } = account();
    await api.privatePostOrderListOco(oco());
    fake.setPrice('BTC/USDT', 66_500);
    assert.deepEqual(fake.orders(key).map((o) => [o.clientOrderId, o.status, o.cummulativeQuoteQty]), [['leg-sl', 'EXPIRED', '0.00000000'], ['leg-tp', 'FILLED', '660.00000000']]);
  });

  it('DELETE /api/v3/orderList cancels both legs and frees the quantity; cancelling one leg cancels the whole list', async () => {
    const { key, ex, api } = account();
    const res = await api.privateDeleteOrderList({ symbol: 'BTCUSDT', listClientOrderId: (await api.privatePostOrderListOco(oco())).listClientOrderId });
    assert.deepEqual((res.orderReports as Raw[]).map((r) => [r.origClientOrderId, r.status]), [['leg-sl', 'CANCELED'], ['leg-tp', 'CANCELED']]);
    assert.deepEqual(fake.balances(key).BTC, { free: '0.01000000', locked: '0.00000000' });
    // The ids are free again once the list is done (Binance: unique among open lists/orders only).
    await api.privatePostOrderListOco(oco());
    await ex.cancelOrder('', 'BTC/USDT', { clientOrderId: 'leg-tp' });
    assert.deepEqual(fake.orders(key).slice(2).map((o) => o.status), ['CANCELED', 'CANCELED']);
    assert.deepEqual(fake.balances(key).BTC, { free: '0.01000000', locked: '0.00000000' });
  });
});
