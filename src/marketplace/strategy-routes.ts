/**
 * Strategies: public list/detail with track records computed from the strategy's own closed trades at
 * the reference market's prices (track-record.ts), signal history by seq (declared and market price),
 * and for authors: create (webhook secret shown once), edit, and rotate the secret.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { PrismaClient } from '@prisma/client';
import { TOPICS, type Bus } from '../bus/index.js';
import { requireAuth, currentUser, type TokenService } from '../http/auth.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { webhookUrl } from '../http/public-url.js';
import { wrap } from '../http/wrap.js';
import { sha256Hex } from '../lib/crypto.js';
import { forbidden, notFound } from '../lib/errors.js';
import { PAIR_RE, signalSchema, toSignal } from '../signals/index.js';
import { publicReadCors } from './cors.js';
import { listQuery, listStrategies, PERIODS, SORT_COLUMNS } from './listing.js';
import { strategyTradeRoutes } from './strategy-trade-routes.js';
import { TradeAggregates } from './trade-aggregates.js';
import { openTradeView, type CurrentPrices } from './strategy-trades.js';

export type { CurrentPrices } from './strategy-trades.js';
import { trackRecordDetail, trackRecords } from './track-record.js';
import { verifyStrategy } from './verify.js';

/** BASE/QUOTE, upper-cased, at most 200, duplicates dropped (first occurrence kept). */
const pairsSchema = z.array(z.string().trim().toUpperCase().regex(PAIR_RE, 'must look like BASE/QUOTE')).max(200).transform((ps) => [...new Set(ps)]);

const createSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  description: z.string().max(5000).optional(),
  pairs: pairsSchema.optional(),
  maxLagSeconds: z.number().int().min(1).max(86_400).optional(),
});

// Strict: a misspelt or read-only field (webhookSecret, authorId) is a 400, not a silent no-op.
const patchSchema = createSchema.partial().strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one of name, description, pairs, maxLagSeconds');

/** GET /api/strategies/:id/signals query. */
const signalsQuery = z.object({ afterSeq: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) });

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64url');
const authorName = (email: string | undefined) => (email ? email.split('@')[0] : null);

/**
 * @param deps.priceBandPercent how far a declared price may be from the market before /verify calls it
 *   divergent (PRICE_BAND_PERCENT; default 3)
 */
export function strategyRoutes(deps: {
  prisma: PrismaClient; tokens: TokenService; bus?: Bus; priceBandPercent?: number;
  /** The reference market's current prices, for the unrealised PnL of open trades (absent: "price unavailable"). */
  prices?: CurrentPrices;
  /** Called with the strategy id once its webhook secret is rotated, before the answer (this process's cache). */
  onSecretRotated?: (strategyId: string) => void;
  /** PUBLIC_BASE_URL: the origin of the webhook URL a new strategy is answered with (unset: the request's). */
  publicBaseUrl?: string;
}): Router {
  const r = Router();
  const { prisma } = deps;
  const aggregates = new TradeAggregates(prisma);

  r.use('/api/strategies', publicReadCors());
  const statsFor = (ids: string[]) => trackRecords(prisma, ids);

  const view = (s: { id: string; name: string; description: string; pairs: string[]; createdAt: Date; maxLagSeconds: number; author: { email: string } | null }) =>
    ({ id: s.id, name: s.name, description: s.description, author: authorName(s.author?.email), pairs: s.pairs, maxLagSeconds: s.maxLagSeconds, createdAt: s.createdAt });

  r.get('/api/strategies', wrap(async (req, res) => {
    const q = parseBody(listQuery, req.query);
    const load = async (ids: string[]) => (await prisma.strategy.findMany({ where: { id: { in: ids } }, include: { author: { select: { email: true } } } })).map(view);
    res.json(await listStrategies(prisma, aggregates, q, load));
  }));

  r.get('/api/strategies/:id', wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const s = await prisma.strategy.findUnique({ where: { id }, include: { author: { select: { email: true } } } });
    if (!s) throw notFound('strategy');
    const extra = await statsFor([id]);
    const open = await prisma.trade.findMany({ where: { strategyId: id, status: 'ACTIVE' }, orderBy: { openSeq: 'asc' } });
    const record = await trackRecordDetail(prisma, id);
    res.json({
      ...view(s), ...extra(id), ...record,
      openTrades: open.map((t) => openTradeView(t, deps.prices)),
    });
  }));

  r.get('/api/strategies/:id/signals', wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const q = parseBody(signalsQuery, req.query);
    if (!(await prisma.strategy.count({ where: { id } }))) throw notFound('strategy');
    const rows = q.afterSeq !== undefined
      ? await prisma.signal.findMany({ where: { strategyId: id, seq: { gt: BigInt(q.afterSeq) } }, orderBy: { seq: 'asc' }, take: q.limit })
      : (await prisma.signal.findMany({ where: { strategyId: id }, orderBy: { seq: 'desc' }, take: q.limit })).reverse();
    // The declared price and the market price side by side; null market price = "price not verified".
    const signals = rows.map((r) => ({ ...toSignal(r), marketPrice: r.marketPrice === null ? null : Number(r.marketPrice) }));
    res.json({ signals, lastSeq: signals.at(-1)?.seq ?? q.afterSeq ?? 0 });
  }));

  r.get('/api/strategies/:id/verify', wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const report = await verifyStrategy(prisma, id, (await statsFor([id]))(id).stats, { tolerancePct: deps.priceBandPercent });
    if (!report) throw notFound('strategy');
    res.set('Cache-Control', 'no-store').json(report);
  }));

  r.post('/api/strategies', requireAuth(deps.tokens, 'AUTHOR'), wrap(async (req, res) => {
    const body = parseBody(createSchema, req.body);
    const secret = newSecret();
    const s = await prisma.strategy.create({
      data: { name: body.name, description: body.description ?? '', pairs: body.pairs ?? [], maxLagSeconds: body.maxLagSeconds, authorId: currentUser(req).id, webhookSecretHash: sha256Hex(secret) },
      include: { author: { select: { email: true } } },
    });
    res.status(201).json({ ...view(s), webhookSecret: secret, webhookUrl: webhookUrl(deps.publicBaseUrl, req, s.id).url });
  }));

  r.patch('/api/strategies/:id', requireAuth(deps.tokens, 'AUTHOR'), wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const user = currentUser(req);
    const body = parseBody(patchSchema, req.body);
    const found = await prisma.strategy.findUnique({ where: { id }, select: { authorId: true } });
    if (!found) throw notFound('strategy');
    if (found.authorId !== user.id && user.role !== 'ADMIN') throw forbidden('only the strategy author may edit it');
    // The UPDATE takes the strategy row lock that the accept transaction takes before it reads the
    // strategy, so each signal is checked against the old pair list or the new one. Dropping a pair that
    // holds an open trade is allowed: the coordinator always accepts the CLOSE of an open trade.
    const s = await prisma.strategy.update({
      where: { id },
      data: { name: body.name, description: body.description, pairs: body.pairs, maxLagSeconds: body.maxLagSeconds },
      include: { author: { select: { email: true } } },
    });
    // Processes that cache strategy data drop it at once where the message arrives.
    await deps.bus?.publish(TOPICS.strategyChanged, { strategyId: id }).catch(() => {});
    res.json(view(s));
  }));

  r.post('/api/strategies/:id/webhook-secret', requireAuth(deps.tokens, 'AUTHOR'), wrap(async (req, res) => {
    const id = uuidParam(req.params.id, 'strategy');
    const user = currentUser(req);
    const s = await prisma.strategy.findUnique({ where: { id }, select: { authorId: true } });
    if (!s) throw notFound('strategy');
    if (s.authorId !== user.id && user.role !== 'ADMIN') throw forbidden('only the strategy author may rotate its secret');
    const secret = newSecret();
    await prisma.strategy.update({ where: { id }, data: { webhookSecretHash: sha256Hex(secret) } });
    // Ingest processes cache secret hashes for a few seconds: this process drops the old one before answering,
    // the others when the bus message arrives.
    deps.onSecretRotated?.(id);
    await deps.bus?.publish(TOPICS.webhookSecretChanged, { strategyId: id }).catch(() => {});
    res.json({ webhookSecret: secret });
  }));

  r.use(strategyTradeRoutes({ prisma }));
  return r;
}

describeRoutes([
  {
    method: 'get', path: '/api/strategies', tag: 'strategies', auth: 'public', query: listQuery,
    summary: 'Strategies page by page: filter, search, sort on any column; each with subscribers, stats, period return and sparkline',
    description: `Sort columns: ${SORT_COLUMNS.join(', ')}. Periods: ${Object.keys(PERIODS).join(', ')}. Every figure is computed at the reference market's prices from closed trades with verified prices (declared prices never count). periodReturnPct compounds the trades closed in the period (null without any verified trade); sparkline holds 31 equity points (100 = the period's start) at equal steps across it. Unknown parameters are a 400.`,
    responses: { 200: '{ strategies, total, page, limit, pages, sort, order, period }', 400: 'VALIDATION_FAILED' },
  },
  { method: 'get', path: '/api/strategies/:id', tag: 'strategies', auth: 'public', summary: 'One strategy: stats, basis, firstSignalAt, equityCurve, monthlyReturns (UTC months, at market prices), the latest 100 closed trades, open trades (declared and market entry price; unrealisedPnlPct from the reference price feed, null with unrealisedStatus PRICE_UNAVAILABLE or ENTRY_NOT_VERIFIED)', responses: { 200: 'the strategy', 404: 'STRATEGY_NOT_FOUND' } },
  { method: 'get', path: '/api/strategies/:id/signals', tag: 'strategies', auth: 'public', summary: 'Signals after afterSeq in seq order (or the latest limit); also how a WebSocket client fills a GAP', query: signalsQuery, responses: { 200: { description: 'signals in ascending seq, each with its declared price and marketPrice (null: not verified); lastSeq to pass as the next afterSeq', schema: z.object({ signals: z.array(signalSchema), lastSeq: z.number().int() }) }, 400: 'VALIDATION_FAILED', 404: 'STRATEGY_NOT_FOUND' } },
  { method: 'get', path: '/api/strategies/:id/verify', tag: 'strategies', auth: 'public', summary: 'Recomputes the hash chain and the stats from the raw signals', responses: { 200: '{ ok, chain: { ok, problems }, recomputed, published, statsMatch }', 404: 'STRATEGY_NOT_FOUND' } },
  { method: 'post', path: '/api/strategies', tag: 'strategies', auth: 'author', summary: 'Create a strategy; the answer carries its webhookSecret, shown this once', body: createSchema, responses: { 201: 'the strategy with webhookSecret and webhookUrl (absolute: PUBLIC_BASE_URL, else the request\'s origin)', 400: 'VALIDATION_FAILED', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN' } },
  { method: 'patch', path: '/api/strategies/:id', tag: 'strategies', auth: 'author', summary: 'Change name, description, pairs or maxLagSeconds (its author only)', body: patchSchema, responses: { 200: 'the strategy', 400: 'VALIDATION_FAILED', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND' } },
  { method: 'post', path: '/api/strategies/:id/webhook-secret', tag: 'strategies', auth: 'author', summary: 'Rotate the webhook secret (shown once); the old one stops working at once', responses: { 200: '{ webhookSecret }', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND' } },
]);
