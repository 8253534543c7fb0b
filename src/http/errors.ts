/** Central express error handler: every error leaves as `{ error: { code, message } }`, one log line. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';
import { accountGone, isAccountForeignKeyViolation } from './auth.js';
import type { Logger } from '../lib/logger.js';

export function notFoundHandler(): RequestHandler {
  return (req, res) => { res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } }); };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toAppError(err);
    const line = { code: e.code, status: e.status, method: req.method, path: req.path };
    if (e.status >= 500) log.error({ ...line, err }, 'request failed');
    else log.info(line, 'request refused');
    if (res.headersSent) return;
    const body: { code: string; message: string; details?: unknown } = { code: e.code, message: e.message };
    if (e.details !== undefined) body.details = e.details;
    res.status(e.status).json({ error: body });
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // A write for an account deleted after requireAuth confirmed it: the token is what is wrong.
  if (isAccountForeignKeyViolation(err)) return accountGone();
  const e = err as { type?: string; status?: number; message?: string };
  // body-parser errors carry `type`
  if (e?.type === 'entity.parse.failed') return new AppError('INVALID_JSON', `request body is not valid JSON: ${e.message}`, 400);
  if (e?.type === 'entity.too.large') return new AppError('BODY_TOO_LARGE', 'request body is too large', 413);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new AppError('BAD_ENCODING', e.message ?? 'unsupported encoding', 415);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new AppError('BAD_REQUEST', e.message ?? 'bad request', e.status);
  return new AppError('INTERNAL', 'internal error', 500, { cause: err });
}
