/** Central express error handler: every error leaves as `{ error: { code, message } }`, one log line. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isErrorCode } from '../lib/error-codes.js';
import { AppError } from '../lib/errors.js';
import { accountGone, isAccountForeignKeyViolation } from './auth.js';
import type { Logger } from '../lib/logger.js';

/** The 404 page for browsers: static, no script, the site's stylesheet (a fixed text: the path is never echoed). */
const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Page not found · Signal Marketplace</title>
  <link rel="icon" href="/favicon.ico" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/site.css">
</head>
<body>
  <header class="top"><a class="brand" href="/">Signal Marketplace</a><a href="/">Strategies</a></header>
  <main id="main">
    <h1 id="not-found">Page not found</h1>
    <p class="muted">There is no page at this address. Go to the <a href="/">list of strategies</a>.</p>
  </main>
</body>
</html>
`;

/**
 * Unknown routes: `{ error: { code: 'NOT_FOUND' } }` for the API (and any client that does not ask for
 * HTML); a GET from a browser (Accept prefers text/html) outside /api gets the HTML 404 page.
 */
export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    const browser = (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/api/') && req.path !== '/api'
      && req.accepts(['json', 'html']) === 'html';
    if (browser) { res.status(404).type('html').send(NOT_FOUND_PAGE); return; }
    res.status(404).json({ error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } });
  };
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
  // A code outside the catalogue (or a status that is not an error) is a bug: 500 INTERNAL, logged with the original.
  if (err instanceof AppError) {
    return isErrorCode(err.code) && Number.isInteger(err.status) && err.status >= 400 && err.status <= 599
      ? err : new AppError('INTERNAL', 'internal error', 500, { cause: err });
  }
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
