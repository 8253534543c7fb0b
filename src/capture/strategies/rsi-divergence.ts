/**
 * Strategy: RSI divergence (long-only).
 *
 * Swing points use a 3-candle fractal: candle j is a swing low if
 * low[j] < low[j-1] and low[j] < low[j+1] (swing high: high[j] > both neighbours),
 * so a swing point is only CONFIRMED on the next candle, i = j + 1 (no lookahead).
 * RSI = Wilder RSI(period) of the closes. Rule, on each candle i with j = i - 1:
 *   - BUY  (open long), bullish divergence: j is a swing low; p is the most recent
 *     earlier swing low with j - p <= lookback; price makes a lower low
 *     (low[j] < low[p]) while RSI makes a higher low (rsi[j] > rsi[p]); and the first
 *     RSI low is in the oversold zone (rsi[p] <= oversold).
 *   - SELL (close long), bearish divergence: mirror image on swing highs: higher high
 *     (high[j] > high[p]), lower RSI high (rsi[j] < rsi[p]), rsi[p] >= overbought.
 * The marker sits on the confirming candle i at its close.
 */
import { assertInteger, closes, fmt, rsiSeries, scanLongOnly } from './indicators.js';
import type { Candle, Marker } from './types.js';

/** Parameters of {@link rsiDivergence}. */
export interface RsiDivergenceParams {
  /** RSI period, integer >= 1. */
  period: number;
  /** Max distance in candles between the two swing points compared, integer >= 2. */
  lookback: number;
  /** Oversold RSI level, 0 <= oversold < overbought. */
  oversold: number;
  /** Overbought RSI level, oversold < overbought <= 100. */
  overbought: number;
}

/** Default parameters: RSI(14), swing points up to 20 candles apart, 30/70 zones. */
export const rsiDivergenceDefaults: Readonly<RsiDivergenceParams> = Object.freeze({
  period: 14,
  lookback: 20,
  oversold: 30,
  overbought: 70,
});

/** `bullish` compares swing lows, `bearish` compares swing highs. */
export type DivergenceKind = 'bullish' | 'bearish';

/** A divergence between two swing points, as returned by {@link divergenceAt}. */
export interface Divergence {
  kind: DivergenceKind;
  /** Index of the earlier swing point p. */
  previous: number;
  /** Index of the later swing point j (= confirming index - 1). */
  pivot: number;
}

/**
 * Detects a divergence confirmed at index `i` (see the file header for the rule).
 * Pure and index-based so it can be tested on hand-made series.
 * @param kind `bullish` (pass lows) or `bearish` (pass highs)
 * @param prices lows for `bullish`, highs for `bearish`
 * @param rsi RSI aligned to `prices` (`null` while warming up)
 * @param i confirming index; the candidate swing point is i - 1
 * @param lookback max distance between the two swing points
 * @param zone bullish: require rsi[p] <= zone; bearish: require rsi[p] >= zone
 * @returns the divergence, or `null` if none is confirmed at `i`
 */
export function divergenceAt(
  kind: DivergenceKind,
  prices: readonly number[],
  rsi: readonly (number | null)[],
  i: number,
  lookback: number,
  zone: number,
): Divergence | null {
  // s = +1: "lower" means lower; s = -1 mirrors every comparison for swing highs.
  const s = kind === 'bullish' ? 1 : -1;
  const isSwing = (k: number): boolean =>
    k >= 1 && k + 1 < prices.length && s * prices[k] < s * prices[k - 1] && s * prices[k] < s * prices[k + 1];

  const j = i - 1;
  if (!isSwing(j)) return null;
  let p = -1;
  for (let k = j - 2; k >= Math.max(1, j - lookback); k--) {
    if (isSwing(k)) {
      p = k;
      break;
    }
  }
  if (p < 0) return null;
  const rp = rsi[p];
  const rj = rsi[j];
  if (rp == null || rj == null) return null;
  const priceExtends = s * prices[j] < s * prices[p]; // lower low / higher high
  const rsiDiverges = s * rj > s * rp; // higher RSI low / lower RSI high
  const inZone = kind === 'bullish' ? rp <= zone : rp >= zone;
  return priceExtends && rsiDiverges && inZone ? { kind, previous: p, pivot: j } : null;
}

/**
 * RSI divergence: BUY on a confirmed bullish divergence from the oversold zone,
 * SELL on a confirmed bearish divergence from the overbought zone.
 * @param candles candles sorted by time
 * @param params RSI period, swing lookback and zone levels
 * @returns alternating long-only markers
 * @throws RangeError on invalid params
 */
export function rsiDivergence(candles: readonly Candle[], params: RsiDivergenceParams): Marker[] {
  const { period, lookback, oversold, overbought } = params;
  assertInteger('period', period, 1);
  assertInteger('lookback', lookback, 2);
  if (!(Number.isFinite(oversold) && Number.isFinite(overbought) && 0 <= oversold && oversold < overbought && overbought <= 100)) {
    throw new RangeError(`need 0 <= oversold < overbought <= 100, got ${oversold} / ${overbought}`);
  }
  const rsi = rsiSeries(closes(candles), period);
  const lows = candles.map((c) => c.low);
  const highs = candles.map((c) => c.high);

  const describe = (d: Divergence, prices: number[], what: string, rel: [string, string]): string =>
    `${d.kind} RSI(${period}) divergence: ${what} ${fmt(prices[d.pivot])} ${rel[0]} ${fmt(prices[d.previous])} ` +
    `while RSI ${fmt(rsi[d.pivot]!)} ${rel[1]} ${fmt(rsi[d.previous]!)}`;

  return scanLongOnly(
    candles,
    (i) => {
      const d = divergenceAt('bullish', lows, rsi, i, lookback, oversold);
      return d === null ? null : describe(d, lows, 'low', ['<', '>']);
    },
    (i) => {
      const d = divergenceAt('bearish', highs, rsi, i, lookback, overbought);
      return d === null ? null : describe(d, highs, 'high', ['>', '<']);
    },
  );
}
