/**
 * Chart data: the candles of a chart page (exchange through ccxt, cached; or an offline fixture file)
 * and the markers its strategy draws. Markers are computed on CLOSED candles only (open time +
 * timeframe <= now), so a marker never flickers with the forming candle.
 * Vocabulary: ChartQuery = what a chart page URL asks for; ChartPayload = what the page draws.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OhlcvCandle, PublicMarketData } from '../exchange/index.js';
import { AppError, badRequest } from '../lib/errors.js';
import { PAIR_RE } from '../signals/index.js';
import { isStrategyKind, runStrategy, type Candle, type Marker, type StrategyKind } from './strategies/index.js';
import { TIMEFRAME_SECONDS } from './targets.js';

/** A chart page's request, validated. */
export interface ChartQuery {
  pair: string;
  timeframe: string;
  strategy: StrategyKind;
  exchange: string;
  limit: number;
  fixture?: string;
  params: Record<string, number | string>;
}

/** What a chart page draws. Times in unix seconds. */
export interface ChartPayload {
  strategyId: string;
  pair: string;
  timeframe: string;
  strategy: StrategyKind;
  params: Record<string, number | string>;
  candles: OhlcvCandle[];
  markers: Marker[];
  /** Open time of the newest closed candle (markers are computed up to it), or null. */
  lastClosedTime: number | null;
}

const RESERVED = new Set(['pair', 'tf', 'strategy', 'exchange', 'limit', 'fixture']);

/**
 * Parses a chart page query string object. Unknown keys are strategy params (numbers when numeric).
 * @throws AppError 400 CHART_QUERY_INVALID
 */
export function parseChartQuery(q: Record<string, unknown>): ChartQuery {
  const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).trim() : undefined);
  const bad = (msg: string) => badRequest('CHART_QUERY_INVALID', msg);
  const pair = str('pair')?.toUpperCase();
  if (!pair || !PAIR_RE.test(pair)) throw bad('pair must look like BASE/QUOTE');
  const timeframe = str('tf') ?? '1m';
  if (!(timeframe in TIMEFRAME_SECONDS)) throw bad(`tf must be one of ${Object.keys(TIMEFRAME_SECONDS).join(' ')}`);
  const strategy = str('strategy');
  if (!isStrategyKind(strategy)) throw bad('strategy must be a built-in strategy kind');
  const exchange = (str('exchange') ?? 'binance').toLowerCase();
  if (!/^[a-z0-9]+$/.test(exchange)) throw bad('exchange must be a ccxt exchange id');
  const limit = str('limit') === undefined ? 300 : Number(str('limit'));
  if (!Number.isInteger(limit) || limit < 10 || limit > 1000) throw bad('limit must be an integer 10..1000');
  const fixture = str('fixture');
  if (fixture !== undefined && !/^[\w-]+$/.test(fixture)) throw bad('fixture must be a plain file name');
  const params: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (RESERVED.has(k) || typeof v !== 'string' || !/^[a-zA-Z][a-zA-Z0-9]*$/.test(k)) continue;
    params[k] = v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return { pair, timeframe, strategy, exchange, limit, fixture, params };
}

/**
 * Builds chart payloads; candles are cached per (exchange, pair, timeframe, limit) for `cacheMs`.
 * Candles come only from `exchanges` (config.capture.chartExchanges): chart pages are public, and an
 * open `?exchange=` would let any caller make the server build any ccxt exchange and send requests
 * wherever that exchange's API lives.
 */
export class ChartData {
  private readonly cache = new Map<string, { at: number; candles: Promise<OhlcvCandle[]> }>();
  private readonly exchanges: ReadonlySet<string>;

  constructor(private readonly deps: { market: PublicMarketData; cacheMs: number; fixturesDir: string; exchanges: readonly string[]; now?: () => number }) {
    this.exchanges = new Set(deps.exchanges);
  }

  /**
   * Refuses a query whose candles would come from an exchange that is not configured (a fixture
   * query reads a local file and passes).
   * @throws AppError 400 CHART_EXCHANGE_NOT_CONFIGURED
   */
  check(q: ChartQuery): void {
    if (q.fixture === undefined && !this.exchanges.has(q.exchange)) {
      throw badRequest('CHART_EXCHANGE_NOT_CONFIGURED', `exchange "${q.exchange}" is not configured for charts (configured: ${[...this.exchanges].join(', ')})`);
    }
  }

  /**
   * Candles and markers for one chart page.
   * @throws AppError 400 (bad params, exchange not configured, unknown market), 404 (missing fixture), 503 (exchange unavailable)
   */
  async payload(strategyId: string, q: ChartQuery): Promise<ChartPayload> {
    this.check(q);
    const candles = await this.candles(q);
    const nowSec = (this.deps.now?.() ?? Date.now()) / 1000;
    const tf = TIMEFRAME_SECONDS[q.timeframe]!;
    const closed: Candle[] = candles.filter((c) => c.time + tf <= nowSec);
    let markers: Marker[];
    try {
      markers = closed.length ? runStrategy(q.strategy, closed, q.params as never) : [];
    } catch (err) {
      if (err instanceof RangeError) throw badRequest('CHART_PARAMS_INVALID', err.message);
      throw err;
    }
    return {
      strategyId, pair: q.pair, timeframe: q.timeframe, strategy: q.strategy, params: q.params,
      candles, markers, lastClosedTime: closed.at(-1)?.time ?? null,
    };
  }

  private candles(q: ChartQuery): Promise<OhlcvCandle[]> {
    const key = `${q.fixture ? `fixture:${q.fixture}` : q.exchange}|${q.pair}|${q.timeframe}|${q.limit}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at <= this.deps.cacheMs) return hit.candles;
    if (this.cache.size > 1000) for (const [k, v] of this.cache) if (now - v.at > this.deps.cacheMs) this.cache.delete(k);
    const candles = (q.fixture ? this.fixture(q.fixture, q.limit) : this.deps.market.fetchCandles(q.exchange, q.pair, q.timeframe, q.limit))
      .then(dedupeSorted);
    // A failed fetch is not cached: the next viewer retries.
    candles.catch(() => { if (this.cache.get(key)?.candles === candles) this.cache.delete(key); });
    this.cache.set(key, { at: now, candles });
    return candles;
  }

  /** Offline candles: `<fixturesDir>/<name>.json`, an array of {time (unix s), open, high, low, close, volume}. */
  private async fixture(name: string, limit: number): Promise<OhlcvCandle[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.deps.fixturesDir, `${name}.json`), 'utf8');
    } catch {
      throw new AppError('CHART_FIXTURE_NOT_FOUND', `candle fixture "${name}" not found`, 404);
    }
    const rows = JSON.parse(text) as OhlcvCandle[];
    if (!Array.isArray(rows)) throw new AppError('CHART_FIXTURE_INVALID', `candle fixture "${name}" must be an array`, 500);
    return rows.slice(-limit).map((c) => ({ time: Number(c.time), open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close), volume: Number(c.volume ?? 0) }));
  }
}

/** Sorted by time with repeated times dropped (lightweight-charts and the strategies need strictly increasing times). */
function dedupeSorted(candles: OhlcvCandle[]): OhlcvCandle[] {
  const sorted = [...candles].sort((a, b) => a.time - b.time);
  return sorted.filter((c, i) => i === 0 || c.time > sorted[i - 1]!.time);
}
