/**
 * A venue dialect: everything the trading client must know about one exchange and nothing else does.
 * The runner and executor speak in our own vocabulary (our stored client order id, kinds of failure);
 * the dialect translates to the venue: ccxt options, the client id the venue accepts, how an order is
 * found by that id, whether it rests protective orders, and which answers mean what.
 * To add a venue: write one of these (see binance.ts, mexc.ts, bybit.ts), register it in index.ts,
 * add it to SUPPORTED_EXCHANGES, and run test/executor-venues.test.ts against a fake of it.
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

/** The JSON `code` of a venue answer embedded in a ccxt error message (`mexc {"code":-2013,...}`). */
export function venueCode(message: string, field = 'code'): number | undefined {
  const m = new RegExp(`"${field}"\\s*:\\s*"?(-?\\d+)`).exec(message);
  return m ? Number(m[1]) : undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
