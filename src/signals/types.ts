/**
 * Signal vocabulary. A Signal is what an author published (OPEN or CLOSE a LONG/SHORT on a pair);
 * a Trade is the strategy's position on a pair that an OPEN starts and a CLOSE completes (with PnL %).
 * `seq` is system-wide, gapless and strictly increasing in commit order.
 */
export type Action = 'OPEN' | 'CLOSE';
export type Direction = 'LONG' | 'SHORT';
export type Source = 'capture' | 'webhook' | 'api' | 'monitor';

/** Validated, normalised input to the coordinator. */
export interface SignalInput {
  strategyId: string;
  pair: string;
  action: Action;
  /** Optional for CLOSE (taken from the open trade). */
  direction?: Direction;
  price: number;
  stopLoss?: number;
  takeProfit?: number;
  note?: string;
  idempotencyKey?: string;
  /** When the signal was generated at its source (ms since epoch), for the staleness check. */
  timestamp?: number;
  evidence?: string;
  /** Why a monitor/automatic CLOSE happened (STOP_LOSS | TAKE_PROFIT). */
  reason?: string;
}

/** A stored signal as clients see it. */
export interface Signal {
  id: string;
  seq: number;
  strategyId: string;
  pair: string;
  action: Action;
  direction: Direction;
  /** The price the author declared. */
  price: number;
  /**
   * The reference exchange's last price when the signal was accepted; null when none was at hand
   * ("price not verified": offline, a pair the feed had not priced yet). Set by every reader.
   */
  marketPrice?: number | null;
  stopLoss: number | null;
  takeProfit: number | null;
  note: string | null;
  source: Source;
  idempotencyKey: string | null;
  evidence: string | null;
  reason: string | null;
  prevHash: string | null;
  hash: string;
  createdAt: string;
}

export interface ActiveTrade {
  id: string;
  strategyId: string;
  pair: string;
  direction: Direction;
  entryPrice: number;
  /** The reference market price at the OPEN (null: not verified). Set by every reader. */
  entryMarketPrice?: number | null;
  stopLoss: number | null;
  takeProfit: number | null;
  openSignalId: string;
  openSeq: number;
  openedAt: string;
}

export interface CompletedTrade extends ActiveTrade {
  exitPrice: number;
  /** The reference market price at the CLOSE (null: not verified). Set by every reader. */
  exitMarketPrice?: number | null;
  closeSignalId: string;
  closeSeq: number;
  closedAt: string;
  pnlPct: number;
  closeReason: string | null;
}

/** What one accepted signal did to the trades: the unit the JSON store applies, in seq order. */
export interface SignalEffect {
  signal: Signal;
  opened?: ActiveTrade;
  closed?: CompletedTrade;
}

/**
 * Payload of the bus topic `signal.accepted`: the accepted signal with the trade it opened or closed
 * (what a SignalLogFollower hands its consumer without reading PostgreSQL).
 */
export type SignalAcceptedEvent = SignalEffect;

export function pnlPct(direction: Direction, entry: number, exit: number): number {
  const raw = direction === 'LONG' ? (exit - entry) / entry : (entry - exit) / entry;
  return Math.round(raw * 100 * 1e8) / 1e8;
}
