/**
 * Execution history over REST. GET /api/executions?subscriptionId=&status=&limit= (the caller's own
 * rows; another user's subscription is a 404) and GET /api/admin/executions?status=&exchange=&
 * subscriptionId=&limit= (ADMIN). Rows never carry key material (ExecutionLog holds none); lease
 * internals are left out.
 */
import { Router, type Request } from 'express';
import type { ExecutionStatus, Prisma, PrismaClient } from '@prisma/client';
import { currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { AppError } from '../lib/errors.js';

const STATUSES = ['PENDING', 'SUCCESS', 'FAILED', 'PARTIAL', 'SKIPPED'];
type Row = Prisma.ExecutionLogGetPayload<object>;

/** The public shape of one execution. */
export function executionView(e: Row) {
  const n = (d: Prisma.Decimal | null) => (d === null ? null : Number(d.toString()));
  return {
    id: e.id, userId: e.userId, subscriptionId: e.subscriptionId, signalId: e.signalId, seq: Number(e.seq), pair: e.pair, action: e.action,
    exchange: e.exchange, orderType: e.orderType, side: e.side, amount: n(e.amount), price: n(e.price), orderId: e.orderId,
    clientOrderId: e.clientOrderId, status: e.status, error: e.error, exchangeResponse: e.exchangeResponse, paper: e.paper,
    attempts: e.attempts, history: (e.legs as { history?: unknown } | null)?.history ?? [], realisedPnl: n(e.realisedPnl),
    createdAt: e.createdAt, executedAt: e.executedAt,
  };
}

function filters(req: Request): Prisma.ExecutionLogWhereInput {
  const q = req.query as Record<string, string | undefined>;
  const where: Prisma.ExecutionLogWhereInput = {};
  if (q.status) {
    if (!STATUSES.includes(q.status)) throw new AppError('VALIDATION_FAILED', `status must be one of ${STATUSES.join(', ')}`, 400);
    where.status = q.status as ExecutionStatus;
  }
  if (q.exchange) where.exchange = q.exchange.toLowerCase();
  if (q.subscriptionId) where.subscriptionId = uuidParam(q.subscriptionId, 'subscription');
  return where;
}

const limitOf = (req: Request) => Math.min(500, Math.max(1, Number(req.query.limit ?? 100) || 100));

export function executionRoutes(deps: { prisma: PrismaClient; tokens: TokenService }): Router {
  const r = Router();
  const { prisma } = deps;

  r.get('/api/executions', requireAuth(deps.tokens), wrap(async (req, res) => {
    const user = currentUser(req);
    const where = { ...filters(req), userId: user.id };
    if (where.subscriptionId) {
      const sub = await prisma.subscription.findUnique({ where: { id: where.subscriptionId as string }, select: { userId: true } });
      if (!sub || sub.userId !== user.id) throw new AppError('NOT_FOUND', 'subscription not found', 404);
    }
    const rows = await prisma.executionLog.findMany({ where, orderBy: { createdAt: 'desc' }, take: limitOf(req) });
    res.json({ executions: rows.map(executionView) });
  }));

  r.get('/api/admin/executions', requireAuth(deps.tokens, 'ADMIN'), wrap(async (req, res) => {
    const rows = await prisma.executionLog.findMany({ where: filters(req), orderBy: { createdAt: 'desc' }, take: limitOf(req) });
    res.json({ executions: rows.map(executionView) });
  }));
  return r;
}
