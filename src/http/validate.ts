/** Request body validation with zod: the first issue becomes a 400 VALIDATION_FAILED with its field. */
import type { z } from 'zod';
import type { Resource } from '../lib/error-codes.js';
import { AppError, notFound } from '../lib/errors.js';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new AppError('VALIDATION_FAILED', field ? `${field}: ${issue.message}` : issue.message, 400, { details: { field } });
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A path parameter naming a resource (`/api/strategies/:id`): a malformed id is the same miss as an unknown
 * one, 404 with the resource's code (STRATEGY_NOT_FOUND, ...), so clients handle one case. Lower-cased.
 */
export function uuidParam(value: unknown, what: Resource): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'string' || !UUID_RE.test(v)) throw notFound(what);
  return v.toLowerCase();
}

/**
 * A body or query field holding an id (`?subscriptionId=`, `{ strategyId }`): malformed is a 400
 * VALIDATION_FAILED naming the field; whether the id names anything is the route's 404. Lower-cased.
 */
export function uuidField(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID_RE.test(value)) {
    throw new AppError('VALIDATION_FAILED', `${field}: must be a UUID`, 400, { details: { field } });
  }
  return value.toLowerCase();
}
