/**
 * CORS for the public, read-only marketplace data (strategy list, detail, signals, verify): any origin
 * may read it, without credentials. Every other route sends no CORS headers, so browsers keep other
 * origins from calling authenticated endpoints (tokens are Bearer headers, never cookies).
 */
import type { RequestHandler } from 'express';

/** Answers preflights with 204 and marks GET/HEAD answers readable by any origin. */
export function publicReadCors(): RequestHandler {
  return (req, res, next) => {
    if (!req.headers.origin || !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method !== 'OPTIONS') return next();
    if (req.headers['access-control-request-method'] !== 'GET') { res.removeHeader('Access-Control-Allow-Origin'); return next(); }
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
