/** Request body validation with zod: the first issue becomes a 400 VALIDATION_FAILED with its field. */
import type { z } from 'zod';
import { AppError } from '../lib/errors.js';

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new AppError('VALIDATION_FAILED', field ? `${field}: ${issue.message}` : issue.message, 400, { details: { field } });
}

/** Route param that must be a UUID; anything else is a 404 for `what`. */
export function uuidParam(value: string | string[] | undefined, what: string): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw new AppError('NOT_FOUND', `${what} not found`, 404);
  return v.toLowerCase();
}
