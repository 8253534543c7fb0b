/**
 * Health and metrics endpoints.
 *   GET /health          public: `{ status: "ok" | "degraded" }`, 200 when every check is ok, else 503
 *                        (what load balancers, PM2 probes and uptime monitors need, and nothing more).
 *   GET /health/details  operator only: the same status plus each check's `{ ok, ...details }` (pids,
 *                        memory, lag, client counts: reconnaissance material for a stranger).
 *   GET /metrics         operator only: Prometheus text.
 * "Operator only" = the client address (req.ip, so the real client behind a trusted proxy) is inside
 * one of `operatorNetworks`, else 403 OPERATOR_ONLY. The shipped nginx site denies both paths to
 * everyone outside the operator's network as well (nginx/signal-marketplace.conf).
 */
import { BlockList, isIPv4 } from 'node:net';
import { Router, type RequestHandler } from 'express';
import { AppError } from '../lib/errors.js';
import { describeRoutes } from './openapi.js';
import type { Metrics } from '../metrics/index.js';
import { wrap } from './wrap.js';

export type HealthCheck = () => Promise<{ ok: boolean; [k: string]: unknown }>;

/** Paths only the operator's network may read. */
export const OPERATOR_PATHS = ['/health/details', '/metrics'] as const;

/**
 * The health and metrics router.
 * @param operatorNetworks CIDR ranges ("10.0.0.0/8", "::1/128") allowed to read the operator paths
 */
export function healthRoutes(checks: Map<string, HealthCheck>, metrics: Metrics, operatorNetworks: readonly string[]): Router {
  const r = Router();
  const operatorOnly = operatorGuard(operatorNetworks);
  r.get('/health', wrap(async (_req, res) => {
    const { ok } = await runChecks(checks);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded' });
  }));
  r.get('/health/details', operatorOnly, wrap(async (_req, res) => {
    const { ok, entries } = await runChecks(checks);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(entries) });
  }));
  r.get('/metrics', operatorOnly, wrap(async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  }));
  return r;
}

async function runChecks(checks: Map<string, HealthCheck>) {
  const entries = await Promise.all([...checks].map(async ([name, check]) => {
    try {
      return [name, await withTimeout(check(), 2000)] as const;
    } catch (err) {
      return [name, { ok: false, error: (err as Error).message }] as const;
    }
  }));
  return { ok: entries.every(([, v]) => v.ok), entries };
}

/** 403 OPERATOR_ONLY unless req.ip is inside one of `cidrs`. */
export function operatorGuard(cidrs: readonly string[]): RequestHandler {
  const allowed = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    allowed.addSubnet(addr!, Number(bits), isIPv4(addr!) ? 'ipv4' : 'ipv6');
  }
  return (req, _res, next) => {
    const ip = (req.ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    let ok = false;
    try { ok = ip !== '' && allowed.check(ip, family); } catch { ok = false; }
    next(ok ? undefined : new AppError('OPERATOR_ONLY', 'this endpoint is only served to the operator network', 403));
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

describeRoutes([
  { method: 'get', path: '/health', tag: 'operations', auth: 'public', summary: 'Liveness for load balancers and probes: { status: "ok" | "degraded" }', responses: { 200: 'every check is ok', 503: { description: 'a check failed or the process is stopping' } } },
  { method: 'get', path: '/health/details', tag: 'operations', auth: 'operator', summary: 'Each check with its details (process, db, bus, store, modules)', responses: { 200: 'every check is ok', 403: 'OPERATOR_ONLY', 503: { description: 'a check failed (body as for 200)' } } },
  { method: 'get', path: '/metrics', tag: 'operations', auth: 'operator', summary: 'Prometheus text exposition', responses: { 200: { description: 'metrics', contentType: 'text/plain' }, 403: 'OPERATOR_ONLY' } },
]);
