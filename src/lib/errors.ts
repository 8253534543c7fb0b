/**
 * AppError: the one error type of the app. `code` is UPPER_SNAKE and stable (clients branch on it),
 * `status` the HTTP status the central handler answers with. Convert foreign errors at the boundary.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 500,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.details = options?.details;
  }
  readonly details: unknown;
}

export const badRequest = (code: string, message: string, details?: unknown) => new AppError(code, message, 400, { details });
export const unauthorized = (message = 'authentication required') => new AppError('UNAUTHORIZED', message, 401);
export const forbidden = (message = 'not allowed') => new AppError('FORBIDDEN', message, 403);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`, 404);
export const conflict = (code: string, message: string) => new AppError(code, message, 409);

/** True for a Prisma unique-constraint violation (P2002), whichever engine raised it. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };
  return e?.code === 'P2002' || e?.code === '23505' || e?.cause?.code === '23505'
    || e?.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation';
}
