import { ERROR_CODES, RESOURCE_NOT_FOUND, type ErrorCode, type Resource } from './error-codes.js';

/**
 * AppError: the one error type of the app. `code` is one of the catalogue (src/lib/error-codes.ts) and stable
 * (clients branch on it); `status`, the HTTP status the central handler answers with, defaults to the
 * catalogue's (test/error-codes.test.ts checks that a status written at a call site agrees with it).
 * Convert foreign errors at the boundary.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = ERROR_CODES[code]?.status ?? 500,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.details = options?.details;
  }
  readonly details: unknown;
}

export const badRequest = (code: ErrorCode, message: string, details?: unknown) => new AppError(code, message, 400, { details });
export const unauthorized = (message = 'authentication required') => new AppError('UNAUTHORIZED', message, 401);
export const forbidden = (message = 'not allowed') => new AppError('FORBIDDEN', message, 403);
/** The catalogue's miss for a resource: `notFound('strategy')` → 404 STRATEGY_NOT_FOUND "strategy not found". */
export const notFound = (what: Resource) => new AppError(RESOURCE_NOT_FOUND[what], `${what} not found`, 404);
export const conflict = (code: ErrorCode, message: string) => new AppError(code, message, 409);

/** True for a Prisma unique-constraint violation (P2002), whichever engine raised it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.code === '23505'
    || e?.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation';
}
