/**
 * Operator views (ADMIN only):
 *   GET /api/admin/execution-stats?status=&exchange=   counts per exchange and status, failures per
 *        exchange, and the last 20 errors (each with the user's email and the strategy's name).
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
      where: { ...where, error: { not: null } }, orderBy: { createdAt: 'desc' }, take: 20,
      select: { id: true, exchange: true, status: true, error: true, pair: true, createdAt: true, executedAt: true, subscriptionId: true, user: { select: { email: true } }, signal: { select: { strategy: { select: { name: true } } } } },
    });
    const lastErrors = last.map(({ user, signal, ...e }) => ({ ...e, userEmail: user.email, strategyName: signal.strategy.name }));
    res.json({ exchanges: [...byExchange.values()].sort((a, b) => b.failed - a.failed), lastErrors });
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/admin/execution-stats', tag: 'admin', auth: 'admin', summary: 'Execution counts per exchange and status, failures per exchange, the last 20 errors', query, responses: { 200: 'the stats', 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN' } },
]);
