/**
 * GET /health: each registered check reports { ok, ...details }; 200 when all are ok, else 503.
 * GET /metrics: Prometheus text.
 */
import { Router } from 'express';
import type { Metrics } from '../metrics/index.js';
import { wrap } from './wrap.js';

export type HealthCheck = () => Promise<{ ok: boolean; [k: string]: unknown }>;

export function healthRoutes(checks: Map<string, HealthCheck>, metrics: Metrics): Router {
  const r = Router();
  r.get('/health', wrap(async (_req, res) => {
    const entries = await Promise.all([...checks].map(async ([name, check]) => {
      try {
        return [name, await withTimeout(check(), 2000)] as const;
      } catch (err) {
        return [name, { ok: false, error: (err as Error).message }] as const;
      }
    }));
    const ok = entries.every(([, v]) => v.ok);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(entries) });
  }));
  r.get('/metrics', wrap(async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  }));
  return r;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
