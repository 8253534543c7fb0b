/**
 * Execution history over REST. GET /api/executions?subscriptionId=&status=&limit= (the caller's own
 * rows; another user's subscription is a 404) and GET /api/admin/executions?status=&exchange=&
 * subscriptionId=&limit= (ADMIN). Each parameter is given at most once (a repeated or nested one is a
 * 400 VALIDATION_FAILED, never a 500); limit is an integer, clamped to 1..500. Rows never carry key
 * material (ExecutionLog holds none); lease internals are left out.
 */
import { Router, type Request } from 'express';
import type { ExecutionStatus, Prisma, PrismaClient } from '@prisma/client';
import { currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { z } from 'zod';
import { uuidField } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import { AppError, notFound } from '../lib/errors.js';

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

const invalid = (message: string) => new AppError('VALIDATION_FAILED', message, 400);

/**
 * One query parameter as a string: undefined when absent or empty. A repeated key
 * (`?exchange=a&exchange=b` parses to an array) or a nested one (`?status[x]=`) is a 400 naming it.
 */
function queryParam(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`${name} must be given once, as a plain value`);
  return v;
}

function filters(req: Request): Prisma.ExecutionLogWhereInput {
  const where: Prisma.ExecutionLogWhereInput = {};
  const status = queryParam(req, 'status');
  if (status !== undefined) {
    if (!STATUSES.includes(status)) throw invalid(`status must be one of ${STATUSES.join(', ')}`);
    where.status = status as ExecutionStatus;
  }
  const exchange = queryParam(req, 'exchange')?.trim().toLowerCase();
  if (exchange) {
    if (!/^[a-z0-9]{1,32}$/.test(exchange)) throw invalid('exchange must be an exchange id such as binance');
    where.exchange = exchange;
  }
  const subscriptionId = queryParam(req, 'subscriptionId');
  if (subscriptionId !== undefined) where.subscriptionId = uuidField(subscriptionId, 'subscriptionId');
  return where;
}

/** `limit`: an integer, clamped to 1..500 (default 100); anything else is a 400. */
function limitOf(req: Request): number {
  const raw = queryParam(req, 'limit');
  if (raw === undefined) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw invalid('limit must be an integer (1..500)');
  return Math.min(500, Math.max(1, n));
}

export function executionRoutes(deps: { prisma: PrismaClient; tokens: TokenService }): Router {
  const r = Router();
  const { prisma } = deps;

  r.get('/api/executions', requireAuth(deps.tokens), wrap(async (req, res) => {
    const user = currentUser(req);
    const take = limitOf(req);
    const where = { ...filters(req), userId: user.id };
    if (where.subscriptionId) {
      const sub = await prisma.subscription.findUnique({ where: { id: where.subscriptionId as string }, select: { userId: true } });
      if (!sub || sub.userId !== user.id) throw notFound('subscription');
    }
    const rows = await prisma.executionLog.findMany({ where, orderBy: { createdAt: 'desc' }, take });
    res.json({ executions: rows.map(executionView) });
  }));

  r.get('/api/admin/executions', requireAuth(deps.tokens, 'ADMIN'), wrap(async (req, res) => {
    const take = limitOf(req);
    const rows = await prisma.executionLog.findMany({ where: filters(req), orderBy: { createdAt: 'desc' }, take });
    res.json({ executions: rows.map(executionView) });
  }));
  return r;
}

/** The query these routes read by hand (queryParam, filters, limitOf), for the API document only. */
const executionsQuery = z.object({
  status: z.enum(['PENDING', 'SUCCESS', 'FAILED', 'PARTIAL', 'SKIPPED']).optional(),
  exchange: z.string().regex(/^[a-z0-9]{1,32}$/).optional().describe('an exchange id such as binance'),
  subscriptionId: z.string().uuid().optional(),
  limit: z.coerce.number().int().default(100).describe('clamped to 1..500'),
});

describeRoutes([
  { method: 'get', path: '/api/executions', tag: 'executions', auth: 'user', summary: 'Your execution rows (every attempt), newest first', query: executionsQuery, responses: { 200: '{ executions }', 400: 'VALIDATION_FAILED', 404: 'SUBSCRIPTION_NOT_FOUND' } },
  { method: 'get', path: '/api/admin/executions', tag: 'admin', auth: 'admin', summary: 'Everyone\'s execution rows, newest first', query: executionsQuery.omit({ subscriptionId: true }), responses: { 200: '{ executions }', 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN' } },
]);
