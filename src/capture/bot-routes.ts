/**
 * Strategy bots REST (role api), the strategy's author only (anyone else: 403 FORBIDDEN, like editing the
 * strategy; an unknown strategy 404 STRATEGY_NOT_FOUND, a bot not on it 404 BOT_NOT_FOUND):
 *   GET    /api/strategies/:id/bots                     the strategy's bots, the author's count and limit
 *   POST   /api/strategies/:id/bots                     attach a built-in strategy (disabled unless enabled: true)
 *   GET    /api/strategies/:id/bots/:botId              one bot: parameters, counters, latest capture/failure
 *   PATCH  /api/strategies/:id/bots/:botId              change any field; { enabled } enables or disables it
 *   DELETE /api/strategies/:id/bots/:botId
 *   GET    /api/strategies/:id/bots/:botId/preview      its chart pages with the markers they draw now
 *   GET    /api/strategies/:id/bots/:botId/screenshot   the latest evidence screenshot (PNG)
 * Every change is announced on the bus (bots.changed): capturers reload their targets at once.
 */
import path from 'node:path';
import type { PrismaClient, TradingBot } from '@prisma/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { TOPICS, type Bus } from '../bus/index.js';
import { currentUser, requireAuth, type TokenService } from '../http/auth.js';
import { describeRoutes } from '../http/openapi.js';
import { parseBody, uuidParam } from '../http/validate.js';
import { wrap } from '../http/wrap.js';
import { AppError, conflict, forbidden, notFound } from '../lib/errors.js';
import { BOT_CANDLES, botCreateSchema, botPatchSchema, botTargets, checkBotParams } from './bot-schema.js';
import type { ChartData } from './chart-data.js';
import { strategyKinds, type StrategyKind } from './strategies/index.js';
import { chartUrl } from './targets.js';

/** Evidence file names the capturer writes (`<uuid>_<BASE-QUOTE>_<tf>_<time>_<side>.png`). */
const SCREENSHOT_RE = /^[\w-]+\.png$/;

export interface BotRouteDeps {
  prisma: PrismaClient; tokens: TokenService; bus?: Bus; data: ChartData; evidenceDir: string;
  /** BOTS_PER_AUTHOR. */
  botsPerAuthor: number;
  /** Chart exchanges a bot may read candles from; the first is the default. */
  exchanges: readonly string[];
}

export function botRoutes(deps: BotRouteDeps): Router {
  const r = Router();
  const { prisma } = deps;
  const auth = requireAuth(deps.tokens);
  const base = '/api/strategies/:id/bots';

  /** The strategy, if the caller authors it. */
  async function ownStrategy(req: Request) {
    const id = uuidParam(req.params.id, 'strategy');
    const s = await prisma.strategy.findUnique({ where: { id }, select: { id: true, authorId: true, pairs: true } });
    if (!s) throw notFound('strategy');
    if (!s.authorId || s.authorId !== currentUser(req).id) throw forbidden('only the strategy author manages its bots');
    return s;
  }
  async function ownBot(req: Request) {
    const s = await ownStrategy(req);
    const botId = uuidParam(req.params.botId, 'bot');
    const bot = await prisma.tradingBot.findFirst({ where: { id: botId, strategyId: s.id } });
    if (!bot) throw notFound('bot');
    return { strategy: s, bot };
  }
  const announce = (bot: { id: string; strategyId: string }) => deps.bus?.publish(TOPICS.botsChanged, { strategyId: bot.strategyId, botId: bot.id }).catch(() => {});

  /** Params checked against the kind, pairs against the strategy's list, the exchange against the chart exchanges. */
  function settle(kind: StrategyKind, params: unknown, pairs: string[], strategyPairs: string[], exchange: string) {
    const checked = checkBotParams(kind, params);
    if (!checked.ok) throw new AppError('VALIDATION_FAILED', `${checked.field}: ${checked.message}`, 400, { details: { field: checked.field } });
    const stranger = strategyPairs.length ? pairs.find((p) => !strategyPairs.includes(p)) : undefined;
    if (stranger) throw new AppError('PAIR_NOT_IN_STRATEGY', `${stranger} is not one of the strategy's pairs (${strategyPairs.join(', ')})`, 400, { details: { field: 'pairs' } });
    if (!deps.exchanges.includes(exchange)) throw new AppError('CHART_EXCHANGE_NOT_CONFIGURED', `exchange must be one of ${deps.exchanges.join(', ')}`, 400, { details: { field: 'exchange' } });
    return checked.params;
  }

  r.get(base, auth, wrap(async (req, res) => {
    const s = await ownStrategy(req);
    const [bots, used] = await Promise.all([
      prisma.tradingBot.findMany({ where: { strategyId: s.id }, orderBy: { createdAt: 'asc' } }),
      prisma.tradingBot.count({ where: { userId: currentUser(req).id } }),
    ]);
    res.set('Cache-Control', 'no-store').json({ bots: bots.map(botView), used, limit: deps.botsPerAuthor, builtins: strategyKinds, exchanges: deps.exchanges });
  }));

  r.post(base, auth, wrap(async (req, res) => {
    const s = await ownStrategy(req);
    const body = parseBody(botCreateSchema, req.body);
    const exchange = body.exchange ?? deps.exchanges[0]!;
    const params = settle(body.builtin, body.params, body.pairs, s.pairs, exchange);
    const userId = currentUser(req).id;
    // The author's row lock serialises concurrent creates, so two at once cannot both pass the count.
    const bot = await prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`;
      const used = await tx.tradingBot.count({ where: { userId } });
      if (used >= deps.botsPerAuthor) throw conflict('BOT_LIMIT_REACHED', `you hold ${used} bots, the limit per author is ${deps.botsPerAuthor}: delete one first`);
      return tx.tradingBot.create({ data: {
        userId, strategyId: s.id, name: body.name ?? `${body.builtin} ${body.timeframe}`, builtin: body.builtin, params, pairs: body.pairs,
        timeframe: body.timeframe, exchange, enabled: body.enabled,
      } });
    });
    await announce(bot);
    res.status(201).json(botView(bot));
  }));

  r.get(`${base}/:botId`, auth, wrap(async (req, res) => {
    const { bot } = await ownBot(req);
    res.set('Cache-Control', 'no-store').json(botView(bot));
  }));

  r.patch(`${base}/:botId`, auth, wrap(async (req, res) => {
    const { strategy, bot } = await ownBot(req);
    const body = parseBody(botPatchSchema, req.body);
    const kind = body.builtin ?? (bot.builtin as StrategyKind);
    // A new kind starts from its own defaults; otherwise given params override the stored ones.
    const params = body.builtin && body.builtin !== bot.builtin ? body.params : { ...(bot.params as object), ...body.params };
    const pairs = body.pairs ?? bot.pairs;
    const exchange = body.exchange ?? bot.exchange;
    const checked = settle(kind, params, pairs, strategy.pairs, exchange);
    const updated = await prisma.tradingBot.update({ where: { id: bot.id }, data: {
      name: body.name, builtin: kind, params: checked, pairs, timeframe: body.timeframe, exchange, enabled: body.enabled,
    } });
    await announce(updated);
    res.json(botView(updated));
  }));

  r.delete(`${base}/:botId`, auth, wrap(async (req, res) => {
    const { bot } = await ownBot(req);
    await prisma.tradingBot.deleteMany({ where: { id: bot.id } });
    await announce(bot);
    res.status(204).end();
  }));

  r.get(`${base}/:botId/preview`, auth, wrap(async (req, res) => {
    const { bot } = await ownBot(req);
    const pages = await Promise.all(botTargets({ ...bot, enabled: true }, 60).map(async (t) => {
      const url = chartUrl('', t);
      try {
        const p = await deps.data.payload(t.strategyId, { pair: t.pair, timeframe: t.timeframe, strategy: t.strategy, exchange: t.exchange, limit: BOT_CANDLES, params: t.params });
        return { pair: t.pair, url, candles: p.candles.length, markers: p.markers.length, lastMarkers: p.markers.slice(-5), lastClosedTime: p.lastClosedTime };
      } catch (err) {
        return { pair: t.pair, url, error: err instanceof AppError ? `${err.code}: ${err.message}` : 'the candles could not be loaded' };
      }
    }));
    res.set('Cache-Control', 'no-store').json({ botId: bot.id, enabled: bot.enabled, pages });
  }));

  r.get(`${base}/:botId/screenshot`, auth, wrap(async (req, res) => {
    const { bot } = await ownBot(req);
    const file = bot.lastScreenshot;
    // Written by the capturer only; checked again so a stored name can never leave the evidence directory.
    if (!file || !SCREENSHOT_RE.test(file) || path.basename(file) !== file) throw new AppError('SCREENSHOT_NOT_FOUND', 'this bot has no screenshot yet', 404);
    res.set({ 'Cache-Control': 'private, no-store', 'X-Content-Type-Options': 'nosniff' });
    await new Promise<void>((resolve, reject) => {
      res.sendFile(file, { root: deps.evidenceDir, dotfiles: 'deny' }, (err) => {
        if (!err) resolve();
        else if (res.headersSent) resolve();
        else reject(new AppError('SCREENSHOT_NOT_FOUND', 'the screenshot file is gone', 404));
      });
    });
  }));

  return r;
}

/** What the API shows of a bot. */
export function botView(b: TradingBot) {
  const at = `/api/strategies/${b.strategyId}/bots/${b.id}`;
  return {
    id: b.id, strategyId: b.strategyId, name: b.name, builtin: b.builtin, params: b.params, pairs: b.pairs, timeframe: b.timeframe,
    exchange: b.exchange, enabled: b.enabled, captures: b.captures, failures: b.failures, signals: b.signals,
    lastCaptureAt: b.lastCaptureAt, lastFailureAt: b.lastFailureAt, lastFailure: b.lastFailure,
    screenshotUrl: b.lastScreenshot ? `${at}/screenshot` : null, previewUrl: `${at}/preview`, createdAt: b.createdAt, updatedAt: b.updatedAt,
  };
}

const botDoc = 'the bot: { id, name, builtin, params, pairs, timeframe, exchange, enabled, captures, failures, signals, lastCaptureAt, lastFailureAt, lastFailure, screenshotUrl, previewUrl }';
const paramsDoc = 'Parameters per builtin (missing ones take its defaults): ma-crossover { fast 1..199, slow 2..200 > fast, kind sma|ema }; '
  + 'rsi-divergence { period 2..100, lookback 2..100, oversold < overbought within 0..100 }; bollinger-breakout { period 2..200, stdDev > 0 and < sqrt(period - 1) }; '
  + 'macd-trend { fast 1..99, slow 2..100 > fast, signal 1..50 }. Periods are whole numbers.';
describeRoutes([
  { method: 'get', path: '/api/strategies/:id/bots', tag: 'bots', auth: 'author', summary: 'The strategy\'s bots (its author only), how many bots the author holds and the limit', responses: { 200: '{ bots, used, limit, builtins, exchanges }', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND' } },
  { method: 'post', path: '/api/strategies/:id/bots', tag: 'bots', auth: 'author', summary: 'Attach a built-in strategy with its parameters, pairs and timeframe (disabled unless enabled: true)', description: paramsDoc, body: botCreateSchema, responses: { 201: botDoc, 400: 'VALIDATION_FAILED (details.field, e.g. params.fast), PAIR_NOT_IN_STRATEGY, CHART_EXCHANGE_NOT_CONFIGURED', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND', 409: 'BOT_LIMIT_REACHED' } },
  { method: 'get', path: '/api/strategies/:id/bots/:botId', tag: 'bots', auth: 'author', summary: 'One bot with its capture counters and latest outcome', responses: { 200: botDoc, 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND, BOT_NOT_FOUND' } },
  { method: 'patch', path: '/api/strategies/:id/bots/:botId', tag: 'bots', auth: 'author', summary: 'Change a bot; { enabled: true | false } enables or disables it (capturers pick it up without a restart)', description: paramsDoc, body: botPatchSchema, responses: { 200: botDoc, 400: 'VALIDATION_FAILED, PAIR_NOT_IN_STRATEGY, CHART_EXCHANGE_NOT_CONFIGURED', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND, BOT_NOT_FOUND' } },
  { method: 'delete', path: '/api/strategies/:id/bots/:botId', tag: 'bots', auth: 'author', summary: 'Delete a bot (its signals stay)', responses: { 204: 'deleted', 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND, BOT_NOT_FOUND' } },
  { method: 'get', path: '/api/strategies/:id/bots/:botId/preview', tag: 'bots', auth: 'author', summary: 'The bot\'s chart pages (one per pair) with the markers they draw now, before enabling it', responses: { 200: { description: '{ botId, enabled, pages: [{ pair, url, candles, markers, lastMarkers, lastClosedTime } | { pair, url, error }] }', schema: z.object({ botId: z.string(), enabled: z.boolean(), pages: z.array(z.record(z.string(), z.unknown())) }) }, 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND, BOT_NOT_FOUND' } },
  { method: 'get', path: '/api/strategies/:id/bots/:botId/screenshot', tag: 'bots', auth: 'author', summary: 'The bot\'s latest evidence screenshot', responses: { 200: { description: 'the PNG', contentType: 'image/png' }, 403: 'FORBIDDEN', 404: 'STRATEGY_NOT_FOUND, BOT_NOT_FOUND, SCREENSHOT_NOT_FOUND' } },
]);
