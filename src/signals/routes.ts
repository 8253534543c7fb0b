/**
 * Ingest endpoints: POST /api/signals (the strategy's author, JWT) and
 * POST /api/webhooks/tradingview/:strategyId (secret in body `secret` or X-Webhook-Secret).
 * Both only validate and hand the signal to the coordinator; orders are placed by the executor later,
 * never inside the request. A repeat delivery answers with the original signal and `Idempotent-Replayed: true`.
 *
 * The webhook checks the secret first. A wrong secret (or an unknown strategy) counts in a bucket per
 * client IP (`badSecretLimiter`, 429 to that IP beyond it); only authenticated posts count in the strategy's
 * own bucket (`webhookLimiter`). Strategy ids are public: if wrong-secret posts counted per strategy, anyone
 * could fill the bucket and suppress the author's TradingView CLOSE alerts.
 */
import { Router, type NextFunction, type Request, type Response, type RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type pg from 'pg';
import { TOPICS, type Bus } from '../bus/index.js';
import { requireAuth, currentUser, type TokenService } from '../http/auth.js';
import { z } from 'zod';
import { describeRoutes } from '../http/openapi.js';
import { uuidField, uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { AppError, forbidden, notFound } from '../lib/errors.js';
import { safeEqual, sha256Hex } from '../lib/crypto.js';
import type { SignalCoordinator, AcceptResult } from './coordinator.js';
import type { ReferenceMarket } from './reference.js';
import { fromTradingView } from './tradingview.js';
import { parseSignalInput, signalBodySchema } from './validation.js';

export function signalRoutes(deps: {
  /** Raw pool: the lookups on the ingest path skip Prisma's per-query cost (~1 ms here). */
  pool: pg.Pool;
  /** Carries secret rotations, which drop the rotated strategy's cached secret hash. */
  bus?: Bus;
  coordinator: SignalCoordinator;
  tokens: TokenService;
  /** Authenticated webhook posts, keyed by strategy. */
  webhookLimiter: RequestHandler;
  /** Webhook posts refused for their secret (or strategy), keyed by client IP. */
  badSecretLimiter?: RequestHandler;
  autoCreateStrategies: boolean;
  /** The reference exchange's market list maps TradingView tickers (absent: unambiguous tickers only). */
  reference?: ReferenceMarket;
  /** Shared with the strategy routes, which drop a rotated secret in this process before answering. */
  secrets?: WebhookSecretCache;
}): Router {
  const r = Router();
  const { pool, coordinator } = deps;
  const secrets = deps.secrets ?? new WebhookSecretCache();
  deps.bus?.subscribe(TOPICS.webhookSecretChanged, (m) => secrets.drop(String((m as { strategyId?: unknown }).strategyId)));

  r.post('/api/signals', requireAuth(deps.tokens, 'AUTHOR'), wrap(async (req, res) => {
    const user = currentUser(req);
    const strategyId = uuidField(req.body?.strategyId, 'strategyId');
    const { rows: [strategy] } = await pool.query<{ authorId: string | null }>('SELECT "authorId" FROM "Strategy" WHERE id = $1', [strategyId]);
    if (!strategy) throw notFound('strategy');
    if (strategy.authorId !== user.id && user.role !== 'ADMIN') throw forbidden('only the strategy author may publish its signals');
    const result = await coordinator.accept(parseSignalInput(strategyId, req.body), 'api');
    replay(res, result).status(result.duplicate ? 200 : 201).json(result.signal);
  }));

  /** Step 1: the secret (or, with auto-creation, trust on first use). The outcome waits in res.locals. */
  const authenticate = (req: Request, res: Response, next: NextFunction) => {
    const strategyId = String(req.params.strategyId);
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : null;
    if (!body) { next(new AppError('SIGNAL_INVALID', 'body must be a JSON object', 400)); return; }
    const secret = String(req.get('x-webhook-secret') ?? body.secret ?? '');
    checkWebhookSecret(pool, secrets, strategyId, secret, deps.autoCreateStrategies)
      .then((autoCreate) => { res.locals.webhook = { body, autoCreate }; next(); })
      .catch((err: unknown) => {
        if (err instanceof AppError && (err.status === 401 || err.status === 404)) { res.locals.webhookRefused = err; next(); } else next(err);
      });
  };
  /** Step 2: a refused secret counts against the client's IP only, and is answered 401/404 (429 beyond the limit). */
  const refuseBadSecret = [
    (req: Request, res: Response, next: NextFunction) => (res.locals.webhookRefused && deps.badSecretLimiter ? deps.badSecretLimiter(req, res, next) : next()),
    (_req: Request, res: Response, next: NextFunction) => next(res.locals.webhookRefused),
  ];

  r.post('/api/webhooks/tradingview/:strategyId', (req, _res, next) => {
    try { uuidParam(req.params.strategyId, 'strategy'); next(); } catch (err) { next(err); }
  }, authenticate, ...refuseBadSecret, deps.webhookLimiter, wrap(async (req, res) => {
    const strategyId = uuidParam(req.params.strategyId, 'strategy');
    const { body, autoCreate } = res.locals.webhook as { body: Record<string, unknown>; autoCreate: Awaited<ReturnType<typeof checkWebhookSecret>> };
    const inputs = fromTradingView(body, deps.reference?.markets()).map((b) => parseSignalInput(strategyId, b));
    const results: AcceptResult[] = [];
    for (const input of inputs) results.push(await coordinator.accept(input, 'webhook', autoCreate ? { autoCreate } : {}));
    const fresh = results.filter((x) => !x.duplicate);
    res.setHeader('Idempotent-Replayed', fresh.length ? 'false' : 'true');
    res.status(202).json(results.length === 1 ? results[0]!.signal : { signals: results.map((x) => x.signal) });
  }));

  return r;
}

/**
 * The wrong-secret bucket's key: the client address (req.ip, so X-Forwarded-For only from a trusted proxy),
 * IPv6 grouped by /56, since one IPv6 client can rotate through billions of addresses.
 */
export const badSecretKey = (req: Request): string => `whbad:${ipKeyGenerator(req.ip ?? '')}`;

function replay(res: Response, result: AcceptResult): Response {
  return res.setHeader('Idempotent-Replayed', result.duplicate ? 'true' : 'false');
}

/**
 * Secret hashes of strategies seen recently, so a webhook usually costs no lookup round trip before the
 * accept transaction. An entry lives SECRET_TTL_MS at most: a rotation is dropped at once in the process
 * that made it (the strategy route calls `drop` before answering: the bus message comes back through Redis
 * only later) and, through the bus, in the others; if that message is lost, the old secret still opens
 * the webhook for at most those seconds. Unknown strategies are never cached.
 */
const SECRET_TTL_MS = 5000;
const SECRET_CACHE_MAX = 10_000;

export class WebhookSecretCache {
  private readonly entries = new Map<string, { hash: string | null; until: number }>();

  get(id: string): string | null | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.until > Date.now()) return e.hash;
    this.entries.delete(id);
    return undefined;
  }

  set(id: string, hash: string | null): void {
    this.entries.delete(id);
    if (this.entries.size >= SECRET_CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { hash, until: Date.now() + SECRET_TTL_MS });
  }

  drop(id: string): void { this.entries.delete(id); }
}

/**
 * Verifies the webhook secret in constant time (sha256 of the secret is stored). For an unknown strategy
 * with auto-creation on, the first secret seen becomes its secret (trust on first use).
 */
async function checkWebhookSecret(pool: pg.Pool, cache: WebhookSecretCache, strategyId: string, secret: string, autoCreate: boolean) {
  let stored = cache.get(strategyId);
  if (stored === undefined) {
    const { rows: [strategy] } = await pool.query<{ webhookSecretHash: string | null }>('SELECT "webhookSecretHash" FROM "Strategy" WHERE id = $1', [strategyId]);
    if (!strategy) {
      if (!autoCreate) throw notFound('strategy');
      if (secret.length < 16) throw new AppError('WEBHOOK_SECRET_INVALID', 'a new strategy needs a secret of at least 16 characters', 401);
      return { name: `TradingView ${strategyId.slice(0, 8)}`, webhookSecretHash: sha256Hex(secret) };
    }
    stored = strategy.webhookSecretHash;
    cache.set(strategyId, stored);
  }
  if (!stored || !secret || !safeEqual(sha256Hex(secret), stored)) {
    throw new AppError('WEBHOOK_SECRET_INVALID', 'webhook secret is missing or wrong', 401);
  }
  return undefined;
}


/** A signal as the API and /ws/signals answer it (types.ts `Signal`), for the API document. */
export const signalSchema = z.object({
  id: z.string().uuid(),
  seq: z.number().int().describe('global, strictly increasing across strategies'),
  strategyId: z.string().uuid(),
  pair: z.string().describe('BASE/QUOTE'),
  action: z.enum(['OPEN', 'CLOSE']),
  direction: z.enum(['LONG', 'SHORT']),
  price: z.number().describe('the price the author declared'),
  marketPrice: z.number().nullable().describe('the reference market price at acceptance; null = price not verified'),
  stopLoss: z.number().nullable(),
  takeProfit: z.number().nullable(),
  note: z.string().nullable(),
  source: z.enum(['api', 'webhook', 'capture', 'monitor']),
  idempotencyKey: z.string().nullable(),
  evidence: z.string().nullable(),
  reason: z.string().nullable(),
  prevHash: z.string().nullable(),
  hash: z.string(),
  createdAt: z.string().describe('ISO 8601'),
});

/** TradingView's alert fields (fromTradingView maps them to a signal), for the API document. */
const tradingViewBody = z.object({
  ticker: z.string().describe('BTCUSDT, BINANCE:BTCUSDT or BTCUSDT.P'),
  exchange: z.string().optional(),
  action: z.string().describe('{{strategy.order.action}}: buy or sell'),
  market_position: z.string().describe('{{strategy.market_position}}: long, short or flat'),
  prev_market_position: z.string().describe('{{strategy.prev_market_position}}'),
  price: z.union([z.number(), z.string()]),
  time: z.string().optional().describe('checked against the strategy\'s maxLagSeconds'),
  secret: z.string().optional(),
});

describeRoutes([
  {
    method: 'post', path: '/api/signals', tag: 'signals', auth: 'author', summary: 'Publish a signal on your strategy',
    description: 'An OPEN must be on one of the strategy\'s pairs; the price is checked against the reference market (409 PRICE_OUT_OF_BAND). A repeat with the same idempotencyKey answers 200 with the original and `Idempotent-Replayed: true`.',
    body: signalBodySchema.extend({ strategyId: z.string().uuid() }),
    responses: { 200: { description: 'the original signal (a repeat)', schema: signalSchema }, 201: { description: 'the signal', schema: signalSchema }, 400: 'VALIDATION_FAILED (strategyId), SIGNAL_INVALID, PAIR_NOT_IN_STRATEGY, PAIR_NOT_LISTED', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND', 409: 'PRICE_OUT_OF_BAND, a conflicting position state' },
  },
  {
    method: 'post', path: '/api/webhooks/tradingview/:strategyId', tag: 'signals', auth: 'webhook-secret', summary: 'TradingView alert (or our own signal fields) with the strategy\'s webhook secret',
    description: 'A reversal (long → short) answers `{ signals: [close, open] }`. Wrong secrets are limited per client address (429).',
    body: z.union([signalBodySchema.extend({ secret: z.string().optional() }), tradingViewBody]),
    responses: { 202: { description: 'the signal, or { signals: [close, open] } for a reversal', schema: z.union([signalSchema, z.object({ signals: z.array(signalSchema) })]) }, 400: 'SIGNAL_INVALID', 401: 'WEBHOOK_SECRET_INVALID', 404: 'STRATEGY_NOT_FOUND', 409: 'stale alert or PRICE_OUT_OF_BAND', 429: 'RATE_LIMITED' },
  },
]);
