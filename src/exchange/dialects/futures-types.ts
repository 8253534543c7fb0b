/**
 * A futures dialect: what src/exchange/futures.ts must know about one venue's USDⓈ-margined linear
 * perpetuals, in ccxt 4.5.84 terms. The operations in futures.ts speak our vocabulary (long/short,
 * isolated/cross, our stored client id); the dialect says how the venue answers "already set", how its
 * position mode is read, where conditional orders live and how they are found again.
 */
import type { Exchange } from 'ccxt';
import type { ExchangeErrorKind } from '../errors.js';
import type { CcxtOrder } from './types.js';

export type FuturesMarginMode = 'isolated' | 'cross';
export type PositionMode = 'oneWay' | 'hedge';

export interface FuturesDialect {
  /** Our venue id ('binance', 'bybit'). */
  readonly id: string;
  /** Whether the margin mode is one setting for the whole account (Bybit unified account) rather than per symbol. */
  readonly accountWideMarginMode: boolean;
  /** Sets leverage; the venue's "not modified" answer counts as done. Throws ccxt errors otherwise. */
  setLeverage(ex: Exchange, symbol: string, leverage: number): Promise<void>;
  /** Sets the margin mode; "already set" counts as done. Throws ccxt errors otherwise. */
  setMarginMode(ex: Exchange, symbol: string, mode: FuturesMarginMode): Promise<void>;
  /** The account's position mode as the venue reports it for this symbol. */
  positionMode(ex: Exchange, symbol: string): Promise<PositionMode>;
  /** The regular (market) order with this client id, open or done; null when the venue has none. */
  findOrder(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /** The conditional (stop / take-profit) order with this client id; null when the venue has none. */
  findConditional(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /** Cancels a conditional order by client id; null when nothing is open to cancel. */
  cancelConditional(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /**
   * For a conditional order that fired: the fill as the venue reports it (Binance: the separate regular order
   * named by `actualOrderId`; Bybit: the conditional itself carries it). Null when not (yet) known.
   */
  fillOfTriggered(ex: Exchange, symbol: string, conditional: CcxtOrder): Promise<CcxtOrder | null>;
  /**
   * Realised PnL in the settle currency of the order with this venue order id (a closing fill), after the fees
   * the venue books against it; null when the venue has no record (yet). Binance: Σ realizedPnl − Σ commission of
   * the order's trades (/fapi/v1/userTrades); Bybit: its /v5/position/closed-pnl record (closedPnl, net of fees).
   */
  realisedPnl(ex: Exchange, symbol: string, orderId: string, since: number): Promise<number | null>;
  /**
   * Whether an error says the order's position side does not match the account's position mode (the user
   * switched modes on the venue): the caller forgets the cached mode and the retry sends the right params.
   */
  modeMismatch(message: string): boolean;
  /** Whether an error means a reduce-only order found nothing to reduce (the position is already closed). */
  nothingToReduce(message: string): boolean;
  /** Kind of a failure where the venue's code says more than ccxt's class. */
  classify?(err: unknown, message: string): ExchangeErrorKind | undefined;
}
