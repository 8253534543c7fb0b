/**
 * The vocabulary of spot trading through a venue, as the executor sees it: a market's rules, orders asked
 * for and as the venue reports them, the protective sell, the per-key TradingClient and a public quote.
 * No ccxt types: ccxt-trading-client.ts is the implementation.
 */

/** Precision and minimums of one spot market. */
export interface MarketRules {
  symbol: string;
  base: string;
  quote: string;
  minAmount: number;
  minCost: number;
}

/** An order as the exchange reports it. */
export interface ExchangeOrder {
  id: string;
  clientOrderId: string;
  status: string;
  /** Base quantity filled. */
  filled: number;
  amount: number;
  /** Average fill price (quote per base), when filled. */
  average: number | null;
  /**
   * Fees the venue reported with the order (from its fills), by currency. Binance takes a buy's fee from
   * the base received by default, so the account holds `filled` minus that fee. Empty when not reported.
   */
  fees: { currency: string; cost: number }[];
  raw: unknown;
}

export interface OrderRequest {
  symbol: string;
  side: 'buy' | 'sell';
  /** Base quantity, already rounded with amountToPrecision (an estimate when `cost` is set). */
  amount: number;
  /**
   * Market buy sized in quote currency: spend at most this much (Binance spot `quoteOrderQty`); the venue
   * works out the quantity at its own price. Only where quoteSizedBuy(symbol) is true.
   */
  cost?: number;
  clientOrderId: string;
  /** Trigger price of a protective spot order (STOP_LOSS / TAKE_PROFIT, market on trigger). */
  stopLossPrice?: number;
  takeProfitPrice?: number;
}

/** The protective sell of a whole position: a stop loss, a take profit, or both (one resting order). */
export interface ProtectiveRequest {
  symbol: string;
  /** Base quantity, already rounded with amountToPrecision. */
  amount: number;
  stopLoss: number | null;
  takeProfit: number | null;
  clientOrderId: string;
  /** A stop-limit's limit lies this many percent beyond its trigger (EXECUTOR_STOP_LIMIT_OFFSET_PERCENT). */
  stopLimitOffsetPercent: number;
}

/** Per-key trading operations. Throws ExchangeError. */
export interface TradingClient {
  rules(symbol: string): MarketRules;
  /** Rounds a base quantity down to the market's step (as ccxt does); 0 when below one step. */
  amountToPrecision(symbol: string, amount: number): number;
  priceToPrecision(symbol: string, price: number): number;
  /** Whether a market buy of this market can be sized in quote currency (OrderRequest.cost). */
  quoteSizedBuy(symbol: string): boolean;
  /**
   * Whether the venue rests protective spot orders (stopLossPrice / takeProfitPrice). Where it does not,
   * no protective order is sent: the trade monitor's CLOSE is the stop. Absent = yes (paper).
   */
  readonly protectiveOrders?: boolean;
  /**
   * Places an order. `signedAt` pins the request timestamp (ms): the exchange refuses the request if it
   * arrives later than recvWindow after it, which bounds how long an in-flight order can still appear.
   */
  createOrder(req: OrderRequest, signedAt: number): Promise<ExchangeOrder>;
  /** The order with this clientOrderId, or null when the exchange has none. */
  fetchOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /** Cancels by clientOrderId; null when there is nothing open to cancel. */
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /**
   * Rests the protective sell after an entry in the venue's own form (Binance: a market stop where the
   * symbol lists one, else a stop-limit; both levels as one OCO list). The answer sums every leg. Only
   * where protectiveOrders. `signedAt` as for createOrder.
   */
  placeProtective(req: ProtectiveRequest, signedAt: number): Promise<ExchangeOrder>;
  /** The protective order (or list) with this clientOrderId, summed over its legs; null when none. */
  findProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  /** Cancels what is still open of it and answers what it had filled; null when the venue has none. */
  cancelProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  freeBalance(asset: string): Promise<number>;
  /** Minimum ms between requests for one key, from ccxt's rateLimit. */
  readonly minIntervalMs: number;
}

/** A venue's current public prices of one market (quote per base); null where the venue gave none. */
export interface VenueQuote { symbol: string; bid: number | null; ask: number | null; last: number | null; at: number }
