/**
 * The express application: security headers, JSON body limit, request counting, routers, the
 * central error handler. Knows nothing of the domain beyond the routers it is given.
 */
import express, { type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/index.js';
import { errorHandler, notFoundHandler } from './errors.js';

export function createExpressApp(opts: { log: Logger; metrics: Metrics; bodyLimit: string; trustProxy: string | boolean | number; routers: Router[]; staticDirs?: { path: string; dir: string }[] }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  app.use(helmet({
    contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'", 'ws:', 'wss:'] } },
    crossOriginEmbedderPolicy: false,
  }));
  app.use((req, res, next) => {
    res.on('finish', () => opts.metrics.httpRequests.inc({ method: req.method, status: String(res.statusCode) }));
    next();
  });
  app.use(express.json({ limit: opts.bodyLimit, type: ['application/json', 'text/plain'] }));
  for (const s of opts.staticDirs ?? []) app.use(s.path, express.static(s.dir, { maxAge: '1h', fallthrough: true }));
  for (const r of opts.routers) app.use(r);
  app.use(notFoundHandler());
  app.use(errorHandler(opts.log));
  return app;
}
