/**
 * A venue dialect: everything the trading client must know about one exchange and nothing else does.
 * The runner and executor speak in our own vocabulary (our stored client order id, kinds of failure);
 * the dialect translates to the venue: ccxt options, the client id the venue accepts, how an order is
 * found by that id, whether it rests protective orders, and which answers mean what.
 * To add a venue: write one of these (see binance.ts, mexc.ts, bybit.ts), register it in index.ts
 * (subscriptions then offer it), and run test/executor-venues.test.ts against a fake of it.
 */
import type { Exchange } from 'ccxt';
import type { ExchangeErrorKind } from '../errors.js';

/** A ccxt order as the dialect returns it (the unified structure). */
export type CcxtOrder = Record<string, unknown>;

export interface VenueDialect {
  /** ccxt exchange id. */
  readonly id: string;
  /** ccxt `options` for the shared instance (spot only, no extra pre-calls). */
  readonly ccxtOptions: Record<string, unknown>;
  /** Adjusts the instance after construction (e.g. capability flags ccxt has no option for). */
  configure?(ex: Exchange): void;
  /**
   * The venue's client order id for our stored id ('sm' + 34 hex). Deterministic: the same stored id
   * always maps to the same venue id, so a lookup after any unclear failure asks for the one order that
   * may exist. Our stored id stays the only source of truth (src/execution/ids.ts).
   */
  venueClientId(ourId: string): string;
  /**
   * Whether createOrder answers with the order's status and fill. When false, the trading client looks
   * the order up right after creating it (with `findByClientId`) to learn what filled.
   */
  readonly createReportsFill: boolean;
  /** Whether the venue can rest a spot stop-loss / take-profit order placed through ccxt. */
  readonly protectiveOrders: boolean;
  /**
   * How the venue rests, finds and cancels the protective sell after an entry (where protectiveOrders).
   * Absent: one plain stop order through ccxt's createOrder (stopLossPrice / takeProfitPrice).
   */
  readonly protective?: ProtectiveDialect;
  /** Finds the order with this venue client id (open or recent history), null when the venue has none. Throws ccxt errors. */
  findByClientId(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /** Cancels by venue client id; null when nothing is open to cancel. Throws ccxt errors. */
  cancelByClientId(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /**
   * The kind of a failure where the venue's own codes say more than ccxt's class (e.g. MEXC's bad key
   * is BadRequest in ccxt; its "not found" is ExchangeError); undefined = use the generic mapping.
   */
  classify?(err: unknown, message: string): ExchangeErrorKind | undefined;
}

/** The protective sell after an entry, in venue terms. */
export interface ProtectiveSpec {
  symbol: string;
  /** Base quantity held (rounded by the caller). */
  amount: number;
  stopLoss: number | null;
  takeProfit: number | null;
  /** The venue client id of the order (or of the order list) for our stored protect id. */
  venueId: string;
  /** A stop-limit's limit price lies this many percent beyond its trigger (below it, for a sell). */
  stopLimitOffsetPercent: number;
}

/**
 * A protective order that may be one order or a list of legs (an OCO). Each method answers one
 * ccxt-shaped order: `filled`/`average` over all legs, `status` 'open' while any leg can still execute.
 */
export interface ProtectiveDialect {
  place(ex: Exchange, spec: ProtectiveSpec): Promise<CcxtOrder>;
  /** null when the venue has neither an order nor a list with this id. */
  find(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
  /** Cancels what is still open and answers what it had filled; null when the venue has nothing with this id. */
  cancel(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null>;
}

/** The JSON `code` of a venue answer embedded in a ccxt error message (`mexc {"code":-2013,...}`). */
export function venueCode(message: string, field = 'code'): number | undefined {
  const m = new RegExp(`"${field}"\\s*:\\s*"?(-?\\d+)`).exec(message);
  return m ? Number(m[1]) : undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
