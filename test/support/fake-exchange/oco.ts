/**
 * Binance spot OCO order lists (rest-api.md "New Order list - OCO", "Query Order list", "Cancel Order list"):
 * - `POST /api/v3/orderList/oco`: symbol, side, quantity, aboveType/belowType (STOP_LOSS_LIMIT, STOP_LOSS,
 *   LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT), above/below Price, StopPrice, TimeInForce, ClientOrderId,
 *   listClientOrderId. A SELL list needs its take profit (or limit) above and its stop loss below (-1166,
 *   -1197, -1199) and `above price > last > below stopPrice`, else -2010 "The relationship of the prices
 *   for the orders is not correct." (errors.md). Each leg's type must be in the symbol's `orderTypes` and
 *   the symbol must allow OCO. listClientOrderId is unique among open lists, leg ids among open orders.
 *   The legs share one reservation of the quantity.
 * - `GET /api/v3/orderList?orderListId|origClientOrderId`: the list (no symbol needed); -2013 when none.
 * - `DELETE /api/v3/orderList?symbol&orderListId|listClientOrderId`: cancels the open legs; -2011 when the
 *   list is unknown or already done.
 * One leg executing (a stop triggering, the limit filling) expires the other (engine.ts).
 */
import { randomBytes } from 'node:crypto';
import { BinanceError, Errors } from './errors.js';
import { isOpen, type Engine } from './engine.js';
import { checkOrderTypeListed, type Market } from './markets.js';
import { applyFilters, parseOrderRequest, type OrderDraft } from './order-request.js';
import { cancelJson, newOrderJson } from './views.js';
import type { Account, OrderRecord, Params } from './types.js';

/** An accepted order list. */
export interface OrderListRecord {
  orderListId: number;
  listClientOrderId: string;
  apiKey: string;
  symbol: string;
  /** Leg order ids, below leg first (as Binance lists a SELL OCO's stop first). */
  orderIds: number[];
  transactionTime: number;
}

const LEG_TYPES = new Set(['STOP_LOSS_LIMIT', 'STOP_LOSS', 'LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT']);
const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const isStopLoss = (t: string) => t.startsWith('STOP_LOSS');
const isTakeProfit = (t: string) => t.startsWith('TAKE_PROFIT');

const ocoErrors = {
  notAllowed: () => new BinanceError(400, -2010, 'OCO orders are not supported for this symbol'),
  priceRelation: () => new BinanceError(400, -2010, 'The relationship of the prices for the orders is not correct.'),
  sellLimitAbove: () => new BinanceError(400, -1166, 'A limit order in a sell OCO must be above.'),
  sellStopBelow: () => new BinanceError(400, -1197, 'A stop loss order in a sell OCO must be below.'),
  sellTakeProfitAbove: () => new BinanceError(400, -1199, 'A take profit order in a sell OCO must be above.'),
  buyLimitBelow: () => new BinanceError(400, -1165, 'A limit order in a buy OCO must be below.'),
  buyStopAbove: () => new BinanceError(400, -1196, 'A stop loss order in a buy OCO must be above.'),
  buyTakeProfitBelow: () => new BinanceError(400, -1198, 'A take profit order in a buy OCO must be below.'),
  listNotFound: () => new BinanceError(400, -2013, 'Order list does not exist.'),
};

function need(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === '') throw Errors.mandatory(name);
  return v;
}

/** The leg as a single-order request, validated like one (prefix 'above' or 'below'). */
function legDraft(p: Params, prefix: 'above' | 'below'): OrderDraft {
  const type = need(p, `${prefix}Type`);
  if (!LEG_TYPES.has(type)) throw Errors.invalidOrderType();
  const leg: Params = { symbol: p.symbol!, side: p.side!, type, quantity: need(p, 'quantity'), newOrderRespType: 'RESULT' };
  const copy = (from: string, to: string) => { if (p[from] !== undefined) leg[to] = p[from]!; };
  copy(`${prefix}Price`, 'price');
  copy(`${prefix}StopPrice`, 'stopPrice');
  copy(`${prefix}TimeInForce`, 'timeInForce');
  copy(`${prefix}ClientOrderId`, 'newClientOrderId');
  return parseOrderRequest(leg);
}

function checkSides(side: string, above: string, below: string): void {
  if (side === 'SELL') {
    if (isStopLoss(above)) throw ocoErrors.sellStopBelow();
    if (below === 'LIMIT_MAKER') throw ocoErrors.sellLimitAbove();
    if (isTakeProfit(below)) throw ocoErrors.sellTakeProfitAbove();
  } else {
    if (above === 'LIMIT_MAKER') throw ocoErrors.buyLimitBelow();
    if (isTakeProfit(above)) throw ocoErrors.buyTakeProfitBelow();
    if (isStopLoss(below)) throw ocoErrors.buyStopAbove();
  }
}

/** The price at which a leg starts to execute: a LIMIT_MAKER's price, else its stopPrice. */
const activation = (d: OrderDraft) => (d.type === 'LIMIT_MAKER' ? d.price : d.stopPrice);

function checkPrices(m: Market, above: OrderDraft, below: OrderDraft): void {
  if (!(activation(above) > m.price && activation(below) < m.price)) throw ocoErrors.priceRelation();
}

function checkListId(engine: Engine, account: Account, id: string): void {
  if (!CLIENT_ID.test(id)) throw Errors.illegalClientId();
  const clash = engine.lists.some((l) => l.apiKey === account.apiKey && l.listClientOrderId === id
    && (engine.duplicateMode === 'strict' || listLegs(account, l).some(isOpen)));
  if (clash) throw Errors.duplicateOrder();
}

function listLegs(account: Account, l: OrderListRecord): OrderRecord[] {
  return l.orderIds.map((id) => account.orders.find((o) => o.orderId === id)).filter((o): o is OrderRecord => o !== undefined);
}

function validate(engine: Engine, account: Account, p: Params): { m: Market; above: OrderDraft; below: OrderDraft; listId: string } {
  const m = engine.market(need(p, 'symbol'));
  if (m.status !== 'TRADING') throw Errors.marketClosed();
  if (!m.ocoAllowed) throw ocoErrors.notAllowed();
  const side = need(p, 'side');
  if (side !== 'BUY' && side !== 'SELL') throw Errors.invalidSide();
  checkSides(side, need(p, 'aboveType'), need(p, 'belowType'));
  const [aboveRaw, belowRaw] = [legDraft(p, 'above'), legDraft(p, 'below')];
  checkOrderTypeListed(m, aboveRaw.type);
  checkOrderTypeListed(m, belowRaw.type);
  const listId = p.listClientOrderId ?? randomBytes(16).toString('base64url').slice(0, 22);
  checkListId(engine, account, listId);
  if (aboveRaw.clientOrderId === belowRaw.clientOrderId) throw Errors.duplicateOrder();
  engine.checkDuplicate(account, aboveRaw.clientOrderId);
  engine.checkDuplicate(account, belowRaw.clientOrderId);
  const above = applyFilters(m, aboveRaw);
  const below = applyFilters(m, belowRaw);
  checkPrices(m, above, below);
  return { m, above, below, listId };
}

/** The list as GET /api/v3/orderList shows it. */
function listJson(account: Account, l: OrderListRecord): Record<string, unknown> {
  const legs = listLegs(account, l);
  const open = legs.some(isOpen);
  return {
    orderListId: l.orderListId, contingencyType: 'OCO',
    listStatusType: open ? 'EXEC_STARTED' : 'ALL_DONE', listOrderStatus: open ? 'EXECUTING' : 'ALL_DONE',
    listClientOrderId: l.listClientOrderId, transactionTime: l.transactionTime, symbol: l.symbol,
    orders: legs.map((o) => ({ symbol: o.symbol, orderId: o.orderId, clientOrderId: o.clientOrderId })),
  };
}

/** POST /api/v3/orderList/oco. */
export function placeOco(engine: Engine, account: Account, p: Params, now: number): Record<string, unknown> {
  let v: ReturnType<typeof validate>;
  let legs: OrderRecord[];
  const orderListId = engine.lists.length + 1;
  try {
    v = validate(engine, account, p);
    // The below leg locks the quantity for both (-2010 insufficient balance when it cannot).
    const first = engine.reserve(account, v.m, v.below, orderListId, true);
    legs = [first, engine.reserve(account, v.m, v.above, orderListId, false)];
  } catch (error) {
    account.rejectedOrders += 1;
    throw error;
  }
  for (const o of legs) {
    account.orders.push(o);
    account.usedClientIds.add(o.clientOrderId);
  }
  const list: OrderListRecord = { orderListId, listClientOrderId: v.listId, apiKey: account.apiKey, symbol: v.m.id, orderIds: legs.map((o) => o.orderId), transactionTime: now };
  engine.lists.push(list);
  return { ...listJson(account, list), orderReports: legs.map((o) => newOrderJson(o, 'RESULT')) };
}

function findListRecord(engine: Engine, account: Account, byId: string | undefined, byClientId: string | undefined): OrderListRecord | undefined {
  if (byId === undefined && byClientId === undefined) throw Errors.mandatory('orderListId');
  const mine = engine.lists.filter((l) => l.apiKey === account.apiKey);
  const hits = mine.filter((l) => (byId !== undefined ? l.orderListId === Number(byId) : l.listClientOrderId === byClientId));
  // An id reused after its list finished: the open list first, else the latest.
  return hits.find((l) => listLegs(account, l).some(isOpen)) ?? hits[hits.length - 1];
}

/** GET /api/v3/orderList. */
export function queryList(engine: Engine, account: Account, p: Params): Record<string, unknown> {
  const l = findListRecord(engine, account, p.orderListId, p.origClientOrderId);
  if (l === undefined) throw ocoErrors.listNotFound();
  return listJson(account, l);
}

/** DELETE /api/v3/orderList. */
export function cancelList(engine: Engine, account: Account, p: Params, now: number): Record<string, unknown> {
  const m = engine.market(need(p, 'symbol'));
  const l = findListRecord(engine, account, p.orderListId, p.listClientOrderId);
  const legs = l === undefined || l.symbol !== m.id ? [] : listLegs(account, l);
  if (l === undefined || !legs.some(isOpen)) throw Errors.unknownOrderCancel();
  for (const o of legs) if (isOpen(o)) engine.release(account, m, o, 'CANCELED');
  const cancelId = p.newClientOrderId ?? `cancel${now}`;
  return { ...listJson(account, l), orderReports: legs.map((o) => cancelJson(o, cancelId)) };
}
