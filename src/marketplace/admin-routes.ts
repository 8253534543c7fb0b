/**
 * Operator views (ADMIN only):
 *   GET /api/admin/execution-stats?status=&exchange=   counts per exchange and status, failures per
 *        exchange, and the last 20 errors (each with the user's email and the strategy's name). SKIPPED
 *        rows (a deliberate refusal: price moved, close-only…) are counted but not listed as errors unless
 *        the filter asks for status=SKIPPED.
 *   GET /api/admin/user-emails?ids=<uuid>,<uuid>        { users: { [id]: email } } so that pages show
 *        people by email rather than by id (at most 200 ids).
 * The execution rows themselves are served by the execution module (GET /api/admin/executions).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { PrismaClient } from '@prisma/client';
import { requireAuth, type TokenService } from '../http/auth.js';
import { parseBody } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';

const query = z.object({
  status: z.enum(['PENDING', 'SUCCESS', 'FAILED', 'PARTIAL', 'SKIPPED']).optional(),
  exchange: z.string().trim().toLowerCase().regex(/^[a-z0-9]{2,30}$/, 'must be an exchange id').optional(),
});

const emailsQuery = z.object({
  ids: z.string().max(200 * 37).transform((v) => [...new Set(v.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(z.string().uuid('must be user ids')).max(200)),
});

export function adminRoutes(deps: { prisma: PrismaClient; tokens: TokenService }): Router {
  const r = Router();
  const { prisma } = deps;

  r.get('/api/admin/execution-stats', requireAuth(deps.tokens, 'ADMIN'), wrap(async (req, res) => {
    const q = parseBody(query, req.query);
    const where = { ...(q.status ? { status: q.status } : {}), ...(q.exchange ? { exchange: q.exchange } : {}) };
    const groups = await prisma.executionLog.groupBy({ by: ['exchange', 'status'], where, _count: true });
    const byExchange = new Map<string, { exchange: string; total: number; failed: number; counts: Record<string, number> }>();
    for (const g of groups) {
      const e = byExchange.get(g.exchange) ?? { exchange: g.exchange, total: 0, failed: 0, counts: {} };
      e.counts[g.status] = g._count;
      e.total += g._count;
      if (g.status === 'FAILED') e.failed += g._count;
      byExchange.set(g.exchange, e);
    }
    const last = await prisma.executionLog.findMany({
      where: { ...where, ...(q.status ? {} : { status: { not: 'SKIPPED' as const } }), error: { not: null } }, orderBy: { createdAt: 'desc' }, take: 20,
      select: { id: true, exchange: true, status: true, error: true, pair: true, createdAt: true, executedAt: true, subscriptionId: true, user: { select: { email: true } }, subscription: { select: { strategy: { select: { name: true } } } } },
    });
    // The subscription's strategy: reconciler rows (RECONCILE_MISMATCH) have no signal.
    const lastErrors = last.map(({ user, subscription, ...e }) => ({ ...e, userEmail: user.email, strategyName: subscription.strategy.name }));
    res.json({ exchanges: [...byExchange.values()].sort((a, b) => b.failed - a.failed), lastErrors });
  }));

  r.get('/api/admin/user-emails', requireAuth(deps.tokens, 'ADMIN'), wrap(async (req, res) => {
    const { ids } = parseBody(emailsQuery, req.query);
    const users = ids.length ? await prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } }) : [];
    res.json({ users: Object.fromEntries(users.map((u) => [u.id, u.email])) });
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/admin/execution-stats', tag: 'admin', auth: 'admin', summary: 'Execution counts per exchange and status, failures per exchange, the last 20 errors (SKIPPED only when filtered for)', query, responses: { 200: 'the stats', 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN' } },
  { method: 'get', path: '/api/admin/user-emails', tag: 'admin', auth: 'admin', summary: 'Emails of the given user ids (?ids=a,b: comma-separated, at most 200)', responses: { 200: '{ users: { id: email } }', 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN' } },
]);
