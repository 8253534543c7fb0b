/** Shared record types of the fake Binance spot exchange. */

/** Binance order status values used by the fake. */
export type OrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';

/** 'strict': a clientOrderId can never be reused per account; 'binance': only not while an order with it is open. */
export type DuplicateMode = 'strict' | 'binance';

/** Free and locked amount of one asset, internal units. */
export interface BalanceEntry {
  free: bigint;
  locked: bigint;
}

/** One execution of an order. */
export interface FillRecord {
  tradeId: number;
  price: bigint;
  qty: bigint;
  commission: bigint;
  commissionAsset: string;
  time: number;
  isMaker: boolean;
}

/** An accepted order, as the fake keeps it. */
export interface OrderRecord {
  orderId: number;
  /** The order list (OCO) this order is a leg of; -1 for a single order. */
  orderListId: number;
  clientOrderId: string;
  apiKey: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string;
  price: bigint;
  stopPrice: bigint;
  origQty: bigint;
  origQuoteOrderQty: bigint;
  executedQty: bigint;
  cummulativeQuoteQty: bigint;
  status: OrderStatus;
  time: number;
  updateTime: number;
  workingTime: number;
  isWorking: boolean;
  /** Funds still held in `locked` for this order (quote for buys, base for sells). */
  reserved: bigint;
  fills: FillRecord[];
}

/** A registered API key with its secret, balances and orders. */
export interface Account {
  apiKey: string;
  secret: string;
  balances: Map<string, BalanceEntry>;
  orders: OrderRecord[];
  usedClientIds: Set<string>;
  rejectedOrders: number;
}

/** Read-only view of an order handed to tests (decimals as Binance strings). */
export interface OrderSnapshot {
  apiKey: string;
  orderId: number;
  /** -1 unless the order is a leg of an order list (OCO). */
  orderListId: number;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  status: OrderStatus;
  price: string;
  stopPrice: string;
  origQty: string;
  /** The quote amount a quote-sized MARKET order asked to spend ('0.00000000' otherwise). */
  origQuoteOrderQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  time: number;
  updateTime: number;
}

/** Request parameters after URL/form decoding. */
export type Params = Record<string, string>;
