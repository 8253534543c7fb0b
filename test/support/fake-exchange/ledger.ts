/**
 * The money side of the fake spot exchange: accounts and their balances, the
 * funds an order locks when accepted, what its fills take and give (less the
 * commission), and what is returned when it ends. The matching rules (when an
 * order triggers, fills or expires) are in engine.ts, which extends this.
 */
import { Errors } from './errors.js';
import { minUnits, mul, toUnits } from './decimal.js';
import type { Market } from './markets.js';
import { isMarketLike, isStopType, type OrderDraft } from './order-request.js';
import type { Account, BalanceEntry, OrderRecord } from './types.js';

/** Accounts, balances and the funds of orders. */
export class Ledger {
  readonly accounts = new Map<string, Account>();
  /** Commission as a fraction of the received asset (0 by default). */
  commissionRate = 0n;
  private nextOrderId = 1000;
  private nextTradeId = 1;

  /** @param now clock of the exchange (ms) */
  constructor(protected readonly now: () => number) {}

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

  /** Executes qty at price, moving balances and recording the fill. */
  protected fill(account: Account, m: Market, o: OrderRecord, qty: bigint, price: bigint, isMaker: boolean): void {
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

}
