/**
 * Order execution of the fake spot exchange (balances and the funds of orders:
 * ledger.ts). Market orders fill at the last price; limit orders fill when marketable
 * (at the last price on arrival, at their limit price when resting); stop
 * orders wait for their trigger. Every accepted order is kept for assertions.
 */
import { Errors } from './errors.js';
import { toUnits } from './decimal.js';
import { Ledger } from './ledger.js';
import { buildMarket, checkOrderTypeListed, marketIdOf, type Market, type MarketSpec } from './markets.js';
import { applyFilters, isMarketLike, isStopType, parseOrderRequest, type OrderDraft } from './order-request.js';
import type { OrderListRecord } from './oco.js';
import type { Account, DuplicateMode, OrderRecord, Params } from './types.js';

/** True while an order can still execute or be cancelled. */
export function isOpen(o: OrderRecord): boolean {
  return o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';
}

/** Whether the last price fires the order's stopPrice (Binance spot rules). */
function isTriggered(o: Pick<OrderRecord, 'type' | 'side' | 'stopPrice'>, last: bigint): boolean {
  const rising = last >= o.stopPrice;
  const falling = last <= o.stopPrice;
  if (o.type.startsWith('STOP_LOSS')) {
    return o.side === 'BUY' ? rising : falling;
  }
  return o.side === 'BUY' ? falling : rising;
}

/** Order book-less matching engine holding all markets, accounts and order lists. */
export class Engine extends Ledger {
  readonly markets = new Map<string, Market>();
  /** OCO order lists of every account (oco.ts). */
  readonly lists: OrderListRecord[] = [];
  duplicateMode: DuplicateMode = 'strict';

  /** Adds or replaces a market. */
  addMarket(spec: MarketSpec): Market {
    const m = buildMarket(spec);
    this.markets.set(m.id, m);
    return m;
  }

  /** Market by Binance id or unified symbol; throws -1121 when unknown. */
  market(symbol: string): Market {
    const m = this.markets.get(marketIdOf(symbol));
    if (m === undefined) {
      throw Errors.invalidSymbol();
    }
    return m;
  }

  /** Validates and accepts a new order, executing what is immediately executable. */
  placeOrder(account: Account, params: Params): OrderRecord {
    try {
      return this.accept(account, parseOrderRequest(params));
    } catch (error) {
      account.rejectedOrders += 1;
      throw error;
    }
  }

  private accept(account: Account, request: OrderDraft): OrderRecord {
    const m = this.market(request.symbol);
    if (m.status !== 'TRADING') {
      throw Errors.marketClosed();
    }
    checkOrderTypeListed(m, request.type);
    this.checkDuplicate(account, request.clientOrderId);
    const d = applyFilters(m, request);
    this.checkPlacementRules(m, d);
    const order = this.reserve(account, m, d);
    account.orders.push(order);
    account.usedClientIds.add(d.clientOrderId);
    this.work(account, m, order, true);
    return order;
  }

  /** -2010 "Duplicate order sent." when the id clashes (open orders only in 'binance' mode). */
  checkDuplicate(account: Account, clientOrderId: string): void {
    const clash =
      this.duplicateMode === 'strict'
        ? account.usedClientIds.has(clientOrderId)
        : account.orders.some((o) => o.clientOrderId === clientOrderId && isOpen(o));
    if (clash) {
      throw Errors.duplicateOrder();
    }
  }

  checkPlacementRules(m: Market, d: OrderDraft): void {
    if (isStopType(d.type) && isTriggered(d, m.price)) {
      throw Errors.wouldTrigger();
    }
    if (d.type === 'LIMIT_MAKER' && (d.side === 'BUY' ? m.price <= d.price : m.price >= d.price)) {
      throw Errors.wouldMatch();
    }
  }

  /** Sets the last price of a market and executes orders it makes executable. */
  setPrice(symbol: string, price: number | string): void {
    const m = this.market(symbol);
    m.price = toUnits(price);
    m.high24h = m.price > m.high24h ? m.price : m.high24h;
    m.low24h = m.price < m.low24h ? m.price : m.low24h;
    for (const account of this.accounts.values()) {
      for (const order of account.orders.filter((o) => o.symbol === m.id && isOpen(o))) {
        // A list leg that executed expires its sibling (checked here: the filter ran before).
        if (isOpen(order)) this.work(account, m, order, false);
      }
    }
  }

  /** Triggers, fills or expires an open order against the last price. */
  private work(account: Account, m: Market, o: OrderRecord, arriving: boolean): void {
    let taker = arriving;
    if (!o.isWorking) {
      if (!isTriggered(o, m.price)) {
        return;
      }
      o.isWorking = true;
      o.workingTime = this.now();
      taker = true;
      this.expireSiblings(account, m, o);
    }
    const remaining = o.origQty - o.executedQty;
    if (isMarketLike(o.type)) {
      this.fill(account, m, o, remaining, m.price, false);
      return;
    }
    const marketable = o.side === 'BUY' ? m.price <= o.price : m.price >= o.price;
    if (marketable) {
      this.expireSiblings(account, m, o);
      this.fill(account, m, o, remaining, taker ? m.price : o.price, !taker);
    } else if (taker && (o.timeInForce === 'IOC' || o.timeInForce === 'FOK')) {
      this.release(account, m, o, 'EXPIRED');
    }
  }

  /**
   * One leg of an order list executes: Binance expires the other legs (OCO), which frees the funds they
   * held for the whole list to the executing leg.
   */
  private expireSiblings(account: Account, m: Market, o: OrderRecord): void {
    if (o.orderListId < 0) return;
    for (const sib of account.orders) {
      if (sib.orderListId !== o.orderListId || sib === o || !isOpen(sib)) continue;
      // The list's funds stay locked, now for the leg that executes.
      o.reserved += sib.reserved;
      sib.reserved = 0n;
      this.release(account, m, sib, 'EXPIRED');
    }
  }

  /** Finds an order by orderId or origClientOrderId (latest wins); -2013 when absent. */
  findOrder(account: Account, p: Params): OrderRecord {
    if (p.symbol === undefined || p.symbol === '') {
      throw Errors.mandatory('symbol');
    }
    const m = this.market(p.symbol);
    const byId = p.orderId !== undefined ? Number(p.orderId) : undefined;
    const clientId = p.origClientOrderId;
    if (byId === undefined && clientId === undefined) {
      throw Errors.mandatory('orderId');
    }
    const match = account.orders
      .filter((o) => o.symbol === m.id)
      .filter((o) => (byId !== undefined ? o.orderId === byId : o.clientOrderId === clientId))
      .sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || b.orderId - a.orderId)[0];
    if (match === undefined) {
      throw Errors.orderDoesNotExist();
    }
    return match;
  }

  /** Cancels an open order; -2011 when unknown or no longer open. */
  cancelOrder(account: Account, p: Params): OrderRecord {
    let order: OrderRecord;
    try {
      order = this.findOrder(account, p);
    } catch {
      throw Errors.unknownOrderCancel();
    }
    if (!isOpen(order)) {
      throw Errors.unknownOrderCancel();
    }
    // "Canceling an individual order from an order list will cancel the entire order list." (rest-api.md)
    const m = this.market(order.symbol);
    for (const o of account.orders) {
      if (o === order || (order.orderListId >= 0 && o.orderListId === order.orderListId && isOpen(o))) this.release(account, m, o, 'CANCELED');
    }
    return order;
  }
}
