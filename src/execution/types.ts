/**
 * Execution vocabulary. A Job is one claimed PENDING ExecutionLog row: the durable intent to execute
 * one signal for one subscription. Its legs record what the exchange already holds (an order recorded
 * in a leg is never sent again); history records every attempt.
 */
export type FinalStatus = 'SUCCESS' | 'FAILED' | 'PARTIAL' | 'SKIPPED';

/** One order the exchange confirmed (or a lookup found). */
export interface LegRecord {
  orderId: string;
  clientOrderId: string;
  status: string;
  filled: number;
  average: number | null;
  /** Fee the venue took from the base asset received (a buy on Binance by default): not held afterwards. */
  baseFee?: number;
  /** Futures: the fee in the settle currency where the order answer reported it. */
  fee?: number;
  response: unknown;
}

/** A protective order a CLOSE cancelled, or found already fired (filled > 0; fillOrderId carries the fill). */
export interface CancelRecord { filled: number; average: number | null; fillOrderId?: string; status?: string; response: unknown }

export interface HistoryEntry { at: string; attempt: number; leg?: string; outcome: string; error?: string }

export interface Legs {
  entry?: LegRecord;
  protect?: LegRecord;
  /** CLOSE: what the cancelled protective order had filled before it was cancelled. */
  cancel?: { filled: number; average: number | null; response: unknown };
  /** Futures OPEN: the reduce-only stop-loss and take-profit orders (each its own client id). */
  sl?: LegRecord;
  tp?: LegRecord;
  /** Futures CLOSE: what each cancelled (or already fired) protective order had filled, and its fill order. */
  cancelSl?: CancelRecord;
  cancelTp?: CancelRecord;
  history?: HistoryEntry[];
}

export interface Job {
  id: string;
  userId: string;
  subscriptionId: string;
  signalId: string;
  exchange: string;
  clientOrderId: string;
  /** Claims so far, this one included: > 1 means an earlier attempt may have reached the exchange. */
  attempts: number;
  seq: number;
  pair: string;
  action: 'OPEN' | 'CLOSE';
  legs: Legs;
  /** Local clock (ms) until which this process holds the row. */
  leaseUntil: number;
  claimedAt: number;
  /** What the run reads, loaded by the claim statement itself (no per-job reads). */
  data: JobData;
}

/**
 * The subscription (with its still-encrypted keys), signal and position of a claimed row, read in the
 * claim's snapshot. Rows of one (subscription, pair) run one at a time in seq order and each finish
 * commits its row and its Position change together, so the position read here is the current one.
 */
export interface JobData {
  sub: {
    status: string; keysInvalid: boolean; strategyId: string; sizing: unknown; risk: unknown;
    /** An OPEN further than this (percent) from the venue's price is SKIPPED PRICE_MOVED. */
    maxSlippagePercent: number;
    apiKeyEnc: string | null; apiSecretEnc: string | null;
    /** 'spot' or 'futures'; futures: the leverage and margin mode to use. */
    market: string; leverage: number; marginMode: string;
  } | null;
  /** `acceptedAt`: when the signal was accepted (epoch ms); the venue price used for it is asked for later. */
  signal: { action: 'OPEN' | 'CLOSE'; direction: string; price: number; stopLoss: number | null; takeProfit: number | null; acceptedAt: number } | null;
  position: {
    qty: number; avgPrice: number; protectClientOrderId: string | null;
    /** Futures: side, the resting SL/TP client ids, when it was opened (epoch ms). */
    market: string; side: 'long' | 'short'; slClientOrderId: string | null; tpClientOrderId: string | null; openedAt: number; entryFee: number;
  } | null;
  /** Realised PnL of the subscription today (UTC), loaded only when its risk has a dailyLossLimit. */
  todayPnl: number | null;
}

export interface Outcome {
  status: FinalStatus;
  /** Machine-readable reason first (e.g. "BELOW_MIN_NOTIONAL: …") for SKIPPED/FAILED/PARTIAL. */
  error?: string;
  side?: 'buy' | 'sell';
  amount?: number;
  price?: number;
  orderId?: string;
  response?: unknown;
  realisedPnl?: number;
  position?: PositionChange;
}

export type PositionChange =
  | { kind: 'open'; strategyId: string; qty: number; price: number; protectClientOrderId: string | null; paper: boolean; futures?: FuturesOpen }
  | { kind: 'close' };

/** What a futures OPEN records on its Position besides quantity and price. */
export interface FuturesOpen {
  side: 'long' | 'short'; slClientOrderId: string | null; tpClientOrderId: string | null;
  stopLoss: number | null; takeProfit: number | null; leverage: number; marginMode: string; entryFee: number | null;
}

/**
 * Unclear failures so far, this one included. Claims are not counted: a process killed mid-job
 * increments `attempts` without anything having failed.
 */
export const unclearFailures = (job: Job) => (job.legs.history ?? []).filter((h) => h.outcome === 'retry later').length + 1;

/** Thrown when this process cannot decrypt the subscription's keys (its KEY_ENCRYPTION_KEY differs): another process may. */
export class KeysNotReadable extends Error {
  constructor() { super('stored API keys cannot be decrypted with this process\'s keys'); this.name = 'KeysNotReadable'; }
}

/** Thrown when this process no longer holds the row's lease: stop, write nothing. */
export class LeaseLost extends Error {
  constructor() { super('lease lost'); this.name = 'LeaseLost'; }
}
