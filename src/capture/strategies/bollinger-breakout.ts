/**
 * Strategy: Bollinger Band breakout (long-only).
 *
 * Bands: middle = SMA(period) of the closes including the current candle,
 * upper/lower = middle +/- stdDev * population standard deviation.
 * Rule, on each candle i where the bands are defined at i-1 and i:
 *   - BUY  (open long)  when the close crosses above the upper band:
 *                       close[i-1] <= upper[i-1] and close[i] > upper[i].
 *   - SELL (close long) on the first close back below the middle band: close[i] < middle[i].
 * Because the current close is part of its own band, a close can only exceed the
 * upper band if stdDev < sqrt(period - 1); other parameter sets are rejected.
 */
import { assertInteger, assertPositive, bollingerSeries, closes, fmt, scanLongOnly } from './indicators.js';
import type { Candle, Marker } from './types.js';

/** Parameters of {@link bollingerBreakout}. */
export interface BollingerBreakoutParams {
  /** Band period, integer >= 2. */
  period: number;
  /** Band width in (population) standard deviations, 0 < stdDev < sqrt(period - 1). */
  stdDev: number;
}

/** Default parameters: 20-period bands at 2 standard deviations. */
export const bollingerBreakoutDefaults: Readonly<BollingerBreakoutParams> = Object.freeze({ period: 20, stdDev: 2 });

/**
 * Bollinger breakout: BUY when the close crosses above the upper band, SELL on
 * the first close below the middle band.
 * @param candles candles sorted by time
 * @param params band period and width
 * @returns alternating long-only markers
 * @throws RangeError on invalid params
 */
export function bollingerBreakout(candles: readonly Candle[], params: BollingerBreakoutParams): Marker[] {
  const { period, stdDev } = params;
  assertInteger('period', period, 2);
  assertPositive('stdDev', stdDev);
  if (stdDev >= Math.sqrt(period - 1)) {
    throw new RangeError(
      `stdDev must be < sqrt(period - 1) = ${fmt(Math.sqrt(period - 1))} or the close can never exceed the upper band, got ${stdDev}`,
    );
  }
  const c = closes(candles);
  const bands = bollingerSeries(c, period, stdDev);

  return scanLongOnly(
    candles,
    (i) => {
      const prev = bands[i - 1];
      const cur = bands[i];
      if (i < 1 || prev == null || cur == null) return null;
      if (!(c[i - 1] <= prev.upper && c[i] > cur.upper)) return null;
      return `close ${fmt(c[i])} crossed above upper band ${fmt(cur.upper)} (BB ${period}, ${stdDev})`;
    },
    (i) => {
      const cur = bands[i];
      if (cur == null || !(c[i] < cur.middle)) return null;
      return `close ${fmt(c[i])} fell below middle band ${fmt(cur.middle)} (BB ${period}, ${stdDev})`;
    },
  );
}
