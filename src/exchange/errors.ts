/**
 * Exchange error family: what the executor branches on. Converted from ccxt errors in
 * trading-client.ts and only there.
 * - EXCHANGE_TEMPORARY (unclear): the order may or may not exist → look it up by clientOrderId, then retry.
 * - EXCHANGE_REJECTED: the exchange answered "no" → record, never retry.
 * - EXCHANGE_AUTH: the API key is invalid or revoked → mark the subscription keysInvalid, stop.
 * - EXCHANGE_ORDER_NOT_FOUND: a lookup found nothing (safe to send).
 */
import type { ErrorCode } from '../lib/error-codes.js';
import { AppError } from '../lib/errors.js';

export type ExchangeErrorKind = 'temporary' | 'rejected' | 'auth' | 'notFound';

const CODES: Record<ExchangeErrorKind, ErrorCode> = {
  temporary: 'EXCHANGE_TEMPORARY',
  rejected: 'EXCHANGE_REJECTED',
  auth: 'EXCHANGE_AUTH',
  notFound: 'EXCHANGE_ORDER_NOT_FOUND',
};

/** An exchange failure with its kind, the ccxt class name and the exchange's raw answer (if any). */
export class ExchangeError extends AppError {
  constructor(readonly kind: ExchangeErrorKind, message: string, readonly ccxtClass: string, readonly response?: string, cause?: unknown) {
    // The catalogue's status: never 401 (that would tell an API client its own token is wrong).
    super(CODES[kind], message, undefined, { cause });
    this.name = 'ExchangeError';
  }
}
