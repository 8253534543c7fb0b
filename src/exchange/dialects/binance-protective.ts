/**
 * Binance spot protective sells, chosen from the symbol's exchangeInfo `orderTypes` (ccxt refuses an
 * unlisted type before sending: "triggerPrice parameter is not allowed for BTC/USDT market orders";
 * real BTCUSDT lists only LIMIT, LIMIT_MAKER, MARKET, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
 * - stop loss and take profit: one OCO order list (`POST /api/v3/orderList/oco`, ccxt has no unified
 *   method): above leg LIMIT_MAKER at the take profit, below leg STOP_LOSS at the stop loss where listed,
 *   else STOP_LOSS_LIMIT with its limit `stopLimitOffsetPercent` below. `listClientOrderId` is our id;
 *   the legs' ids are derived from it ('tp'/'sl' replace its last two characters: never hex, so never
 *   another of our ids). Binance keeps list and leg ids unique among OPEN lists/orders only.
 * - one level: STOP_LOSS / TAKE_PROFIT where listed, else the *_LIMIT type with the same offset.
 * Lookup: the single order by `origClientOrderId`, else the list (`GET /api/v3/orderList?origClientOrderId=`,
 * -2013 when there is none) and its legs. Cancel: `DELETE /api/v3/orderList` (cancelling one leg cancels
 * the whole list), else the single order; what either had filled is reported.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { CcxtOrder, ProtectiveDialect, ProtectiveSpec } from './types.js';

type Raw = Record<string, unknown>;
interface Unified { status?: string; filled?: number; cost?: number; amount?: number; clientOrderId?: string }

/** The OCO legs' client ids (≤ 36 chars, Binance's `^[a-zA-Z0-9-_]{1,36}$`). */
export const ocoLegIds = (venueId: string) => ({ above: `${venueId.slice(0, 34)}tp`, below: `${venueId.slice(0, 34)}sl` });

const notFound = (err: unknown) => err instanceof ccxt.OrderNotFound;

function orderTypes(ex: Exchange, symbol: string): string[] {
  const info = ex.market(symbol).info as { orderTypes?: unknown };
  return Array.isArray(info?.orderTypes) ? info.orderTypes.map(String) : [];
}

/** One ccxt-shaped order summing the legs of a list. */
function summary(list: Raw, legs: Unified[]): CcxtOrder {
  const filled = legs.reduce((a, o) => a + Number(o.filled ?? 0), 0);
  const cost = legs.reduce((a, o) => a + Number(o.cost ?? 0), 0);
  const open = legs.some((o) => o.status === 'open');
  return {
    id: String(list.orderListId ?? ''), clientOrderId: String(list.listClientOrderId ?? ''),
    status: open ? 'open' : filled > 0 ? 'closed' : 'canceled', filled, cost,
    amount: Math.max(0, ...legs.map((o) => Number(o.amount ?? 0))), average: filled > 0 ? cost / filled : null,
    info: { ...list, legs: legs.map((o) => ({ clientOrderId: o.clientOrderId, status: o.status, filled: o.filled, cost: o.cost })) },
  };
}

function fromReports(ex: Exchange, symbol: string, list: Raw): CcxtOrder {
  const reports = Array.isArray(list.orderReports) ? (list.orderReports as Raw[]) : [];
  const market = ex.market(symbol);
  return summary(list, reports.map((r) => ex.parseOrder(r, market) as unknown as Unified));
}

async function place(ex: Exchange, s: ProtectiveSpec): Promise<CcxtOrder> {
  const types = orderTypes(ex, s.symbol);
  const below = (p: number) => String(ex.priceToPrecision(s.symbol, p * (1 - s.stopLimitOffsetPercent / 100)));
  const ocoAllowed = (ex.market(s.symbol).info as { ocoAllowed?: unknown }).ocoAllowed !== false;
  if (s.stopLoss !== null && s.takeProfit !== null && ocoAllowed) return placeOco(ex, s, types, below);
  const params: Raw = { clientOrderId: s.venueId };
  if (s.stopLoss !== null) {
    params.stopLossPrice = s.stopLoss;
    const market = types.includes('STOP_LOSS');
    return await ex.createOrder(s.symbol, market ? 'market' : 'limit', 'sell', s.amount, market ? undefined : Number(below(s.stopLoss)), params) as unknown as CcxtOrder;
  }
  params.takeProfitPrice = s.takeProfit;
  const market = types.includes('TAKE_PROFIT');
  return await ex.createOrder(s.symbol, market ? 'market' : 'limit', 'sell', s.amount, market ? undefined : Number(below(s.takeProfit!)), params) as unknown as CcxtOrder;
}

async function placeOco(ex: Exchange, s: ProtectiveSpec, types: string[], below: (p: number) => string): Promise<CcxtOrder> {
  const ids = ocoLegIds(s.venueId);
  const price = (p: number) => String(ex.priceToPrecision(s.symbol, p));
  const req: Raw = {
    symbol: ex.market(s.symbol).id, side: 'SELL', quantity: ex.amountToPrecision(s.symbol, s.amount),
    listClientOrderId: s.venueId, newOrderRespType: 'FULL',
    aboveClientOrderId: ids.above, belowClientOrderId: ids.below,
    belowStopPrice: price(s.stopLoss!),
  };
  if (types.includes('LIMIT_MAKER')) Object.assign(req, { aboveType: 'LIMIT_MAKER', abovePrice: price(s.takeProfit!) });
  else if (types.includes('TAKE_PROFIT')) Object.assign(req, { aboveType: 'TAKE_PROFIT', aboveStopPrice: price(s.takeProfit!) });
  else Object.assign(req, { aboveType: 'TAKE_PROFIT_LIMIT', aboveStopPrice: price(s.takeProfit!), abovePrice: below(s.takeProfit!), aboveTimeInForce: 'GTC' });
  if (types.includes('STOP_LOSS')) req.belowType = 'STOP_LOSS';
  else Object.assign(req, { belowType: 'STOP_LOSS_LIMIT', belowPrice: below(s.stopLoss!), belowTimeInForce: 'GTC' });
  const res = await (ex as unknown as { privatePostOrderListOco(p: Raw): Promise<Raw> }).privatePostOrderListOco(req);
  return fromReports(ex, s.symbol, res);
}

async function fetchSingle(ex: Exchange, symbol: string, clientOrderId: string): Promise<Unified | null> {
  try {
    return await ex.fetchOrder('', symbol, { clientOrderId }) as unknown as Unified;
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

async function find(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null> {
  const single = await fetchSingle(ex, symbol, venueId);
  if (single) return single as CcxtOrder;
  let list: Raw;
  try {
    list = await (ex as unknown as { privateGetOrderList(p: Raw): Promise<Raw> }).privateGetOrderList({ origClientOrderId: venueId });
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
  const refs = Array.isArray(list.orders) ? (list.orders as Raw[]) : [];
  const legs: Unified[] = [];
  for (const ref of refs) {
    const leg = await fetchSingle(ex, symbol, String(ref.clientOrderId ?? ''));
    if (leg) legs.push(leg);
  }
  return summary(list, legs);
}

async function cancel(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null> {
  try {
    const res = await (ex as unknown as { privateDeleteOrderList(p: Raw): Promise<Raw> }).privateDeleteOrderList({ symbol: ex.market(symbol).id, listClientOrderId: venueId });
    return fromReports(ex, symbol, res);
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  try {
    return await ex.cancelOrder('', symbol, { clientOrderId: venueId }) as unknown as CcxtOrder;
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  // Nothing open under this id: what it filled (a stop that fired, a list one leg of which filled), or null.
  return find(ex, symbol, venueId);
}

export const binanceProtective: ProtectiveDialect = { place, find, cancel };
