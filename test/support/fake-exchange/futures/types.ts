/**
 * Records of the venue-neutral USDT-margined perpetual futures engine behind
 * FakeBinanceFutures and FakeBybitLinear. Amounts are bigint scaled by 10^18
 * (../decimal.ts). A position quantity is signed: long > 0, short < 0.
 */

export type Side = 'BUY' | 'SELL';
/** BOTH in one-way mode; LONG/SHORT in hedge (dual-side) mode. */
export type PositionSide = 'BOTH' | 'LONG' | 'SHORT';
export type MarginMode = 'CROSSED' | 'ISOLATED';
/** Which way the mark price must move through the trigger: 'up' fires at mark ≥ trigger, 'down' at mark ≤ trigger. */
export type TriggerDirection = 'up' | 'down';

/** A perpetual contract as a test configures it (decimals as strings or numbers). */
export interface FuturesMarketSpec {
  base: string;
  quote: string;
  markPrice: number | string;
  tickSize: number | string;
  stepSize: number | string;
  minQty: number | string;
  maxQty?: number | string;
  /** Binance MIN_NOTIONAL `notional` / Bybit `minNotionalValue`. */
  minNotional: number | string;
  maxLeverage?: number;
  /** Maintenance margin rate of the first bracket (Binance BTCUSDT: 0.004). */
  maintMarginRate?: number | string;
}

/** A contract in internal units; `mark` is also the last price (one price drives fills, triggers and PnL). */
export interface FuturesMarket {
  id: string;
  base: string;
  quote: string;
  tickSize: bigint;
  stepSize: bigint;
  minQty: bigint;
  maxQty: bigint;
  minNotional: bigint;
  maxLeverage: number;
  mmr: bigint;
  mark: bigint;
}

/** An open (or flat) position of one account, symbol and position side. */
export interface Position {
  symbol: string;
  positionSide: PositionSide;
  /** Signed size: long > 0, short < 0. */
  qty: bigint;
  entry: bigint;
  /** Margin held by an isolated position (0 for cross). */
  isolatedMargin: bigint;
  realizedPnl: bigint;
  updateTime: number;
}

/** A regular order. The fake executes MARKET orders at once, so they never rest. */
export interface FuturesOrder {
  orderId: number;
  clientId: string;
  symbol: string;
  side: Side;
  positionSide: PositionSide;
  type: string;
  origQty: bigint;
  executedQty: bigint;
  avgPrice: bigint;
  cumQuote: bigint;
  status: 'FILLED' | 'EXPIRED' | 'NEW' | 'CANCELED';
  reduceOnly: boolean;
  closePosition: boolean;
  time: number;
  updateTime: number;
}

/** A conditional (algo / trigger) order waiting for the mark price. */
export interface ConditionalOrder {
  algoId: number;
  clientId: string;
  symbol: string;
  side: Side;
  positionSide: PositionSide;
  /** STOP_MARKET / TAKE_PROFIT_MARKET (Binance names; Bybit front-end maps them). */
  type: string;
  triggerPrice: bigint;
  direction: TriggerDirection;
  /** 0 with closePosition. */
  qty: bigint;
  reduceOnly: boolean;
  closePosition: boolean;
  /** Bybit position-level TP/SL (trading-stop): 'TP' | 'SL'; undefined for ordinary conditionals. */
  tpsl?: 'TP' | 'SL';
  /** NEW → TRIGGERED → FINISHED (filled), or CANCELED / EXPIRED. */
  status: 'NEW' | 'TRIGGERED' | 'FINISHED' | 'CANCELED' | 'EXPIRED';
  actualOrderId: number;
  createTime: number;
  updateTime: number;
  triggerTime: number;
}

/** One execution. */
export interface FuturesTrade {
  id: number;
  orderId: number;
  symbol: string;
  side: Side;
  positionSide: PositionSide;
  price: bigint;
  qty: bigint;
  quoteQty: bigint;
  commission: bigint;
  realizedPnl: bigint;
  time: number;
}

/** A wallet movement (Binance /fapi/v1/income rows). */
export interface Income {
  tranId: number;
  symbol: string;
  incomeType: 'REALIZED_PNL' | 'COMMISSION' | 'INSURANCE_CLEAR' | 'FUNDING_FEE';
  income: bigint;
  time: number;
  tradeId: number;
}

/** Futures state of one API key. */
export interface FuturesAccount {
  apiKey: string;
  /** Cross wallet balance (isolated margin is moved out of it into the position). */
  wallet: bigint;
  dualSide: boolean;
  leverage: Map<string, number>;
  marginMode: Map<string, MarginMode>;
  positions: Map<string, Position>;
  orders: FuturesOrder[];
  conditionals: ConditionalOrder[];
  trades: FuturesTrade[];
  income: Income[];
  /** Every client id ever used (regular and conditional), for Bybit's "always unique" rule. */
  usedClientIds: Set<string>;
}

/** Why the engine refused something; each front-end turns it into its venue's code and message. */
export type RejectReason =
  | 'REDUCE_ONLY'
  | 'INSUFFICIENT_MARGIN'
  | 'MIN_NOTIONAL'
  | 'QTY_STEP'
  | 'QTY_RANGE'
  | 'POSITION_SIDE'
  | 'DUPLICATE_ID'
  | 'NOT_FOUND'
  | 'BAD_LEVERAGE'
  | 'WOULD_TRIGGER'
  | 'HAS_POSITION'
  | 'HAS_OPEN_ORDERS'
  | 'UNKNOWN_SYMBOL';

/** A refusal by the engine. */
export class FuturesReject extends Error {
  /** @param reason what went wrong, @param detail text for the message */
  constructor(
    readonly reason: RejectReason,
    readonly detail = '',
  ) {
    super(`${reason}${detail === '' ? '' : `: ${detail}`}`);
  }
}
