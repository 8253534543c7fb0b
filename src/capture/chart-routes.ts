/**
 * Chart page routes (role api):
 *   GET /charts/:strategyId?pair=&tf=&strategy=&exchange=&limit=&fixture=&<params>  the page (public/charts/chart.html)
 *   GET /api/charts/:strategyId/data?<same query>   candles + markers (JSON) the page draws
 *     (`exchange` must be one of the configured chart exchanges, else 400 before any exchange request;
 *     an unknown strategy is 404 STRATEGY_NOT_FOUND, except one an autoCreate target will create)
 *   GET /charts/assets/*     page script and style (public/charts)
 *   GET /charts/vendor/lightweight-charts.standalone.production.js   the library, from node_modules
 *   GET /evidence/<file>.png  screenshots saved by the capturer (DATA_DIR/evidence)
 * Everything is served from our origin: the CSP allows 'self' scripts only.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { z } from 'zod';
import { wrap } from '../http/wrap.js';
import { describeRoutes } from '../http/openapi.js';
import { uuidParam } from '../http/validate.js';
import { notFound } from '../lib/errors.js';
import { parseChartQuery, type ChartData } from './chart-data.js';
import type { ChartStrategies } from './chart-strategies.js';

/** public/ at the repository root. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
const LIB_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')), 'dist');
const LIB_FILE = 'lightweight-charts.standalone.production.js';

/**
 * The chart page router.
 * @param deps.data candle/marker source
 * @param deps.evidenceDir directory of the capturer's screenshots
 * @param deps.strategies which strategy ids exist (chart-strategies.ts); absent (no database), any well-formed id
 */
export function chartRoutes(deps: { data: ChartData; evidenceDir: string; strategies?: ChartStrategies }): Router {
  /**
   * The strategy id in the path: malformed or unknown is 404 STRATEGY_NOT_FOUND like every strategy path
   * (an autoCreate target's id counts as known before its first signal creates the strategy).
   */
  const strategyIdParam = async (value: unknown): Promise<string> => {
    const id = uuidParam(value, 'strategy');
    if (deps.strategies && !(await deps.strategies.known(id))) throw notFound('strategy');
    return id;
  };
  const r = Router();
  r.use('/charts/assets', express.static(path.join(PUBLIC_DIR, 'charts'), { maxAge: '5m', index: false }));
  r.get(`/charts/vendor/${LIB_FILE}`, (_req, res) => { res.sendFile(LIB_FILE, { root: LIB_DIR, maxAge: '1d' }); });
  r.use('/evidence', express.static(deps.evidenceDir, {
    index: false, maxAge: '1d', immutable: true, dotfiles: 'ignore',
    setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
  }));

  r.get('/charts/:strategyId', wrap(async (req, res) => {
    // The query first (a 400 needs no lookup), then the strategy.
    deps.data.check(parseChartQuery(req.query as Record<string, unknown>));
    await strategyIdParam(req.params.strategyId);
    res.sendFile('chart.html', { root: path.join(PUBLIC_DIR, 'charts'), maxAge: 0 });
  }));

  r.get('/api/charts/:strategyId/data', wrap(async (req, res) => {
    const query = parseChartQuery(req.query as Record<string, unknown>);
    deps.data.check(query);
    const payload = await deps.data.payload(await strategyIdParam(req.params.strategyId), query);
    res.set('Cache-Control', 'no-store').json(payload);
  }));
  return r;
}

describeRoutes([{
  method: 'get', path: '/api/charts/:strategyId/data', tag: 'charts', auth: 'public', summary: 'Candles and signal markers for the chart page',
  description: 'Any further query parameter named like an identifier is passed to the built-in strategy as a parameter.',
  // parseChartQuery validates by hand; this is its shape for the document.
  query: z.object({
    pair: z.string().describe('BASE/QUOTE'),
    tf: z.string().default('1m').describe('timeframe, e.g. 1m, 5m, 1h'),
    strategy: z.string().describe('a built-in strategy kind'),
    exchange: z.string().default('binance').describe('one of the configured chart exchanges'),
    limit: z.coerce.number().int().min(10).max(1000).default(300),
    fixture: z.string().optional().describe('a recorded candle file (tests)'),
  }),
  responses: { 200: '{ candles, markers, … }', 400: 'CHART_QUERY_INVALID, CHART_EXCHANGE_NOT_CONFIGURED, CHART_PARAMS_INVALID', 404: 'STRATEGY_NOT_FOUND (unknown or malformed id; an autoCreate target\'s id is known before its first signal), CHART_FIXTURE_NOT_FOUND' },
}]);
