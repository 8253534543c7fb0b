/**
 * Accounts, balances and order execution of the fake spot exchange.
 * Market orders fill at the last price; limit orders fill when marketable
 * (at the last price on arrival, at their limit price when resting); stop
 * orders wait for their trigger. Every accepted order is kept for assertions.
 */
import { Errors } from './errors.js';
import { minUnits, mul, toUnits } from './decimal.js';
import { buildMarket, checkOrderTypeListed, marketIdOf, type Market, type MarketSpec } from './markets.js';
import { applyFilters, isMarketLike, isStopType, parseOrderRequest, type OrderDraft } from './order-request.js';
import type { OrderListRecord } from './oco.js';
import type { Account, BalanceEntry, DuplicateMode, OrderRecord, Params } from './types.js';

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

/** Order book-less matching engine holding all accounts. */
export class Engine {
  readonly markets = new Map<string, Market>();
  readonly accounts = new Map<string, Account>();
  /** OCO order lists of every account (oco.ts). */
  readonly lists: OrderListRecord[] = [];
  duplicateMode: DuplicateMode = 'strict';
  /** Commission as a fraction of the received asset (0 by default). */
  commissionRate = 0n;
  private nextOrderId = 1000;
  private nextTradeId = 1;

  /** @param now clock of the exchange (ms) */
  constructor(private readonly now: () => number) {}

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

  /** Registers (or replaces) an API key with balances. */
  addAccount(apiKey: string, secret: string, balances: Record<string, number | string>): Account {
    const account: Account = {
      apiKey,
      secret,
      balances: new Map(),
      orders: [],
      usedClientIds: new Set(),
      rejectedOrders: 0,
    };
    for (const [asset, free] of Object.entries(balances)) {
      account.balances.set(asset.toUpperCase(), { free: toUnits(free), locked: 0n });
    }
    this.accounts.set(apiKey, account);
    return account;
  }

  /** Balance entry of an asset, created empty on first use. */
  balance(account: Account, asset: string): BalanceEntry {
    let entry = account.balances.get(asset);
    if (entry === undefined) {
      entry = { free: 0n, locked: 0n };
      account.balances.set(asset, entry);
    }
    return entry;
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

  /**
   * Locks the funds the order needs (-2010 when free balance is short) and builds the record. `lock`
   * false: the second leg of an order list, whose funds the first leg holds for both.
   */
  reserve(account: Account, m: Market, d: OrderDraft, orderListId = -1, lock = true): OrderRecord {
    const reference = isMarketLike(d.type) ? (d.stopPrice > 0n ? d.stopPrice : m.price) : d.price;
    const asset = d.side === 'BUY' ? m.quote : m.base;
    const amount = !lock ? 0n : d.side === 'BUY' ? mul(d.quantity, reference) : d.quantity;
    const entry = this.balance(account, asset);
    if (entry.free < amount) {
      throw Errors.insufficientBalance();
    }
    entry.free -= amount;
    entry.locked += amount;
    const now = this.now();
    return {
      orderId: this.nextOrderId++,
      orderListId,
      clientOrderId: d.clientOrderId,
      apiKey: account.apiKey,
      symbol: m.id,
      side: d.side,
      type: d.type,
      timeInForce: d.timeInForce || 'GTC',
      price: d.price,
      stopPrice: d.stopPrice,
      origQty: d.quantity,
      origQuoteOrderQty: d.quoteOrderQty,
      executedQty: 0n,
      cummulativeQuoteQty: 0n,
      status: 'NEW',
      time: now,
      updateTime: now,
      workingTime: isStopType(d.type) ? -1 : now,
      isWorking: !isStopType(d.type),
      reserved: amount,
      fills: [],
    };
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

  /** Executes qty at price, moving balances and recording the fill. */
  private fill(account: Account, m: Market, o: OrderRecord, qty: bigint, price: bigint, isMaker: boolean): void {
    const cost = mul(qty, price);
    if (!this.pay(account, m, o, o.side === 'BUY' ? cost : qty)) {
      this.release(account, m, o, 'EXPIRED');
      return;
    }
    const received = o.side === 'BUY' ? qty : cost;
    const commission = mul(received, this.commissionRate);
    const receiveAsset = o.side === 'BUY' ? m.base : m.quote;
    this.balance(account, receiveAsset).free += received - commission;
    const time = this.now();
    o.fills.push({ tradeId: this.nextTradeId++, price, qty, commission, commissionAsset: receiveAsset, time, isMaker });
    o.executedQty += qty;
    o.cummulativeQuoteQty += cost;
    o.updateTime = time;
    o.status = o.executedQty === o.origQty ? 'FILLED' : 'PARTIALLY_FILLED';
    if (o.status === 'FILLED') {
      this.release(account, m, o, 'FILLED');
    }
  }

  /** Takes `amount` from the order's reservation, then from free balance; false when short. */
  private pay(account: Account, m: Market, o: OrderRecord, amount: bigint): boolean {
    const entry = this.balance(account, o.side === 'BUY' ? m.quote : m.base);
    const fromLocked = minUnits(amount, o.reserved);
    const fromFree = amount - fromLocked;
    if (entry.free < fromFree) {
      return false;
    }
    entry.locked -= fromLocked;
    o.reserved -= fromLocked;
    entry.free -= fromFree;
    return true;
  }

  /** Returns what is still reserved to free balance and sets the final status. */
  release(account: Account, m: Market, o: OrderRecord, status: OrderRecord['status']): void {
    const entry = this.balance(account, o.side === 'BUY' ? m.quote : m.base);
    entry.locked -= o.reserved;
    entry.free += o.reserved;
    o.reserved = 0n;
    o.status = status;
    o.updateTime = this.now();
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
