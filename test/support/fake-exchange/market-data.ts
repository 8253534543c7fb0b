/** Public market data: tickers, book, klines (settable or deterministic). */
import { Errors } from './errors.js';
import { formatUnits as f, mul, toUnits } from './decimal.js';
import type { Market } from './markets.js';
import type { Params } from './types.js';

/** A candle as a test sets it. */
export interface Candle {
  openTime: number;
  open: number | string;
  high: number | string;
  low: number | string;
  close: number | string;
  volume: number | string;
}

const MINUTE = 60_000;
/** Binance kline intervals in milliseconds (1M approximated as 30 days). */
export const INTERVAL_MS: Readonly<Record<string, number>> = {
  '1s': 1000, '1m': MINUTE, '3m': 3 * MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '30m': 30 * MINUTE,
  '1h': 60 * MINUTE, '2h': 120 * MINUTE, '4h': 240 * MINUTE, '6h': 360 * MINUTE, '8h': 480 * MINUTE,
  '12h': 720 * MINUTE, '1d': 1440 * MINUTE, '3d': 3 * 1440 * MINUTE, '1w': 7 * 1440 * MINUTE, '1M': 30 * 1440 * MINUTE,
};

/** Markets selected by `symbol`, `symbols` (JSON array) or all; -1121 on an unknown id. */
export function selectMarkets(all: Map<string, Market>, p: Params): { markets: Market[]; single: boolean } {
  if (p.symbol !== undefined) {
    const m = all.get(p.symbol);
    if (m === undefined) throw Errors.invalidSymbol();
    return { markets: [m], single: true };
  }
  if (p.symbols !== undefined) {
    let ids: unknown;
    try {
      ids = JSON.parse(p.symbols);
    } catch {
      throw Errors.invalidSymbol();
    }
    if (!Array.isArray(ids)) throw Errors.invalidSymbol();
    return { markets: ids.map((id) => selectMarkets(all, { symbol: String(id) }).markets[0]), single: false };
  }
  return { markets: [...all.values()], single: false };
}

/** /api/v3/ticker/price element. */
export function priceTicker(m: Market): Record<string, unknown> {
  return { symbol: m.id, price: f(m.price) };
}

/** /api/v3/ticker/bookTicker element (zero spread around the last price). */
export function bookTicker(m: Market): Record<string, unknown> {
  return { symbol: m.id, bidPrice: f(m.price), bidQty: '10.00000000', askPrice: f(m.price), askQty: '10.00000000' };
}

/** /api/v3/ticker/24hr element; open is the market's initial price, high/low track setPrice. */
export function ticker24h(m: Market, now: number): Record<string, unknown> {
  const change = m.price - m.open24h;
  const percent = m.open24h === 0n ? 0n : (change * 100n * 10n ** 18n) / m.open24h;
  return {
    symbol: m.id,
    priceChange: f(change),
    priceChangePercent: f(percent, 3),
    weightedAvgPrice: f(m.price),
    prevClosePrice: f(m.open24h),
    lastPrice: f(m.price),
    lastQty: '0.01000000',
    bidPrice: f(m.price),
    bidQty: '10.00000000',
    askPrice: f(m.price),
    askQty: '10.00000000',
    openPrice: f(m.open24h),
    highPrice: f(m.high24h),
    lowPrice: f(m.low24h),
    volume: '1000.00000000',
    quoteVolume: f(mul(toUnits(1000), m.price)),
    openTime: now - 86_400_000,
    closeTime: now,
    firstId: 1,
    lastId: 1000,
    count: 1000,
  };
}

/** /api/v3/depth: `limit` levels each side, one tick apart, 1 unit each. */
export function depth(m: Market, limit: number): Record<string, unknown> {
  const level = (i: number, sign: bigint): [string, string] => [f(m.price + sign * BigInt(i) * m.tickSize), '1.00000000'];
  const n = Math.min(Math.max(limit, 1), 5000);
  return {
    lastUpdateId: 1,
    bids: Array.from({ length: n }, (_, i) => level(i + 1, -1n)),
    asks: Array.from({ length: n }, (_, i) => level(i + 1, 1n)),
  };
}

function hashOf(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 1_000_003;
  return h;
}

/** Deterministic candle at `openTime`: a gentle wave around the market's last price. */
export function generatedCandle(m: Market, openTime: number, intervalMs: number): Candle {
  const phase = hashOf(m.id) / 1000;
  const base = Number(f(m.price));
  const at = (k: number): number => base * (1 + 0.01 * Math.sin(k * 0.7 + phase));
  const k = Math.floor(openTime / intervalMs);
  const open = at(k - 1);
  const close = at(k);
  return {
    openTime,
    open,
    close,
    high: Math.max(open, close) * 1.002,
    low: Math.min(open, close) * 0.998,
    volume: 10 + (k % 7),
  };
}

function klineRow(c: Candle, intervalMs: number): unknown[] {
  const s = (v: number | string): string => (typeof v === 'number' ? v.toFixed(8) : v);
  const volume = Number(c.volume);
  return [c.openTime, s(c.open), s(c.high), s(c.low), s(c.close), s(c.volume), c.openTime + intervalMs - 1,
    (volume * Number(c.close)).toFixed(8), 100, (volume / 2).toFixed(8), ((volume / 2) * Number(c.close)).toFixed(8), '0'];
}

function window(p: Params, intervalMs: number, now: number): { from: number; to: number; limit: number; fromStart: boolean } {
  const limit = Math.min(Number(p.limit ?? 500), 1000);
  const to = Math.min(p.endTime !== undefined ? Number(p.endTime) : now, now);
  const from = p.startTime !== undefined ? Number(p.startTime) : to - limit * intervalMs;
  return { from, to, limit, fromStart: p.startTime !== undefined };
}

/** /api/v3/klines rows from the test's candles for (symbol, interval) or generated ones. */
export function klines(m: Market, p: Params, stored: Candle[] | undefined, now: number): unknown[] {
  const intervalMs = INTERVAL_MS[p.interval ?? ''];
  if (intervalMs === undefined) throw p.interval === undefined ? Errors.mandatory('interval') : Errors.invalidInterval();
  const w = window(p, intervalMs, now);
  let candles: Candle[];
  if (stored !== undefined) {
    candles = stored.filter((c) => (!w.fromStart || c.openTime >= w.from) && c.openTime <= w.to);
  } else {
    candles = [];
    const first = Math.ceil(w.from / intervalMs) * intervalMs;
    for (let t = first; t <= w.to; t += intervalMs) candles.push(generatedCandle(m, t, intervalMs));
  }
  const picked = w.fromStart ? candles.slice(0, w.limit) : candles.slice(-w.limit);
  return picked.map((c) => klineRow(c, intervalMs));
}
