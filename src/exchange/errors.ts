/**
 * Exchange error family, the one vocabulary of every exchange call (orders, lookups, test-keys, charts,
 * tickers, market lists). ccxt errors are converted here and only here: `classifyCcxtError` for trading
 * calls (what the executor branches on), `readFailure` for public reads.
 * - EXCHANGE_TEMPORARY (unclear): the order may or may not exist → look it up by clientOrderId, then retry.
 * - EXCHANGE_REJECTED: the exchange answered "no" → record, never retry.
 * - EXCHANGE_AUTH: the API key is invalid or revoked → mark the subscription keysInvalid, stop.
 * - EXCHANGE_ORDER_NOT_FOUND: a lookup found nothing (safe to send).
 * Reads only:
 * - EXCHANGE_BUSY: the venue's request budget for this traffic is spent or the venue asked us to back off;
 *   nothing was sent (details.retryAfterSeconds).
 * - EXCHANGE_BAD_SYMBOL: the venue has no such market (or refused the request's arguments).
 * - EXCHANGE_UNKNOWN: no such venue.
 */
import ccxt from 'ccxt';
import type { ErrorCode } from '../lib/error-codes.js';
import { AppError } from '../lib/errors.js';

export type ExchangeErrorKind = 'temporary' | 'rejected' | 'auth' | 'notFound' | 'busy' | 'badSymbol' | 'unknownVenue';

const CODES: Record<ExchangeErrorKind, ErrorCode> = {
  temporary: 'EXCHANGE_TEMPORARY',
  rejected: 'EXCHANGE_REJECTED',
  auth: 'EXCHANGE_AUTH',
  notFound: 'EXCHANGE_ORDER_NOT_FOUND',
  busy: 'EXCHANGE_BUSY',
  badSymbol: 'EXCHANGE_BAD_SYMBOL',
  unknownVenue: 'EXCHANGE_UNKNOWN',
};

/** An exchange failure with its kind, the ccxt class name and the exchange's raw answer (if any). */
export class ExchangeError extends AppError {
  constructor(readonly kind: ExchangeErrorKind, message: string, readonly ccxtClass: string, readonly response?: string, cause?: unknown, details?: unknown) {
    // The catalogue's status: never 401 (that would tell an API client its own token is wrong).
    super(CODES[kind], message, undefined, { cause, details });
    this.name = 'ExchangeError';
  }
}

/** The part of a venue dialect that reads its own codes (dialects/types.ts VenueDialect.classify). */
export interface ErrorDialect {
  classify?(err: unknown, message: string): ExchangeErrorKind | undefined;
}

/**
 * Maps a ccxt exception of a trading call to our family; the venue's dialect decides first where its codes
 * say more than ccxt's class. Anything unknown is treated as unclear (temporary: look the order up before
 * resending). A stale timestamp (InvalidNonce) is temporary too: the venue refused it, and the lookup proves it.
 */
export function classifyCcxtError(err: unknown, dialect?: ErrorDialect): ExchangeError {
  if (err instanceof ExchangeError) return err;
  const e = err as Error;
  const msg = String(e?.message ?? err).slice(0, 1000);
  const cls = e?.constructor?.name ?? 'Error';
  const kind: ExchangeErrorKind = dialect?.classify?.(err, msg) ?? (
    err instanceof ccxt.AuthenticationError || err instanceof ccxt.PermissionDenied || err instanceof ccxt.AccountSuspended ? 'auth'
      : err instanceof ccxt.OrderNotFound ? 'notFound'
        : err instanceof ccxt.NetworkError || err instanceof ccxt.OperationFailed ? 'temporary'
          : err instanceof ccxt.InsufficientFunds || err instanceof ccxt.InvalidOrder || err instanceof ccxt.BadRequest
            || err instanceof ccxt.BadSymbol || err instanceof ccxt.ArgumentsRequired || err instanceof ccxt.NotSupported ? 'rejected'
            : 'temporary');
  return new ExchangeError(kind, msg, cls, msg, err);
}

/** Budget refusals (budget.ts ExchangeBusy) carry how long to wait. */
interface Busy { retryAfterMs: number; message: string }
const busyOf = (err: unknown): Busy | undefined => {
  const b = err instanceof AppError && err.name === 'ExchangeBusy' ? err : (err as { cause?: unknown })?.cause;
  return b instanceof AppError && b.name === 'ExchangeBusy' ? (b as unknown as Busy) : undefined;
};

/**
 * Maps the failure of a public read (candles, tickers, market list) of `venue`: the budget's refusal → busy,
 * an unknown market or refused arguments → badSymbol, anything else → temporary. `what` names the read.
 */
export function readFailure(err: unknown, venue: string, what: string): ExchangeError {
  const busy = busyOf(err);
  if (busy) return new ExchangeError('busy', busy.message, 'ExchangeBusy', undefined, err, { retryAfterSeconds: Math.ceil(busy.retryAfterMs / 1000) });
  if (err instanceof ExchangeError && err.kind !== 'temporary' && err.kind !== 'rejected') return err;
  const cls = (err as Error)?.constructor?.name ?? 'Error';
  if (err instanceof ccxt.BadSymbol || err instanceof ccxt.BadRequest) {
    return new ExchangeError('badSymbol', `${venue} has no such market (or refused the request): ${what}`, cls, undefined, err);
  }
  return new ExchangeError('temporary', `${venue} ${what} unavailable: ${String((err as Error)?.message ?? err).slice(0, 200)}`, cls, undefined, err);
}

/** No such venue (or not on that market type). */
export const unknownVenue = (venue: string, market = 'spot') =>
  new ExchangeError('unknownVenue', `unknown exchange "${venue}"${market === 'spot' ? '' : ` (${market})`}`, 'NotSupported');
