/**
 * Strategy: moving-average crossover (long-only).
 *
 * Rule, evaluated on each candle i where both averages are defined at i-1 and i
 * (fast/slow = SMA or EMA of the closes, see indicators.ts for the exact math):
 *   - BUY  (open long)  on a golden cross: fast[i-1] <= slow[i-1] and fast[i] > slow[i].
 *   - SELL (close long) on a death cross:  fast[i-1] >= slow[i-1] and fast[i] < slow[i].
 * Touching without crossing (equality) never fires. Markers alternate via the
 * long-only scan: a death cross while flat and a golden cross while long are ignored.
 */
import { closes, fmt, movingAverageSeries, scanLongOnly, assertInteger, type MovingAverageKind } from './indicators.js';
import type { Candle, Marker } from './types.js';

/** Parameters of {@link maCrossover}. */
export interface MaCrossoverParams {
  /** Fast average period, integer >= 1. */
  fast: number;
  /** Slow average period, integer > fast. */
  slow: number;
  /** Average flavour: simple or exponential. */
  kind: MovingAverageKind;
}

/** Default parameters: EMA(9) / EMA(21). */
export const maCrossoverDefaults: Readonly<MaCrossoverParams> = Object.freeze({ fast: 9, slow: 21, kind: 'ema' });

/**
 * Fast/slow moving-average crossover: BUY on the golden cross, SELL on the death cross.
 * @param candles candles sorted by time
 * @param params fast/slow periods and average kind
 * @returns alternating long-only markers
 * @throws RangeError on invalid params
 */
export function maCrossover(candles: readonly Candle[], params: MaCrossoverParams): Marker[] {
  const { fast, slow, kind } = params;
  assertInteger('fast', fast, 1);
  assertInteger('slow', slow, fast + 1);
  const c = closes(candles);
  const f = movingAverageSeries(c, fast, kind);
  const s = movingAverageSeries(c, slow, kind);
  const label = kind.toUpperCase();

  /** fast - slow at i-1 and at i, or null while either average is warming up. */
  const pair = (i: number): { prev: number; cur: number; fi: number; si: number } | null => {
    const fp = f[i - 1];
    const sp = s[i - 1];
    const fi = f[i];
    const si = s[i];
    if (i < 1 || fp == null || sp == null || fi == null || si == null) return null;
    return { prev: fp - sp, cur: fi - si, fi, si };
  };

  return scanLongOnly(
    candles,
    (i) => {
      const p = pair(i);
      if (p === null || !(p.prev <= 0 && p.cur > 0)) return null;
      return `${label}(${fast}) crossed above ${label}(${slow}): ${fmt(p.fi)} > ${fmt(p.si)}`;
    },
    (i) => {
      const p = pair(i);
      if (p === null || !(p.prev >= 0 && p.cur < 0)) return null;
      return `${label}(${fast}) crossed below ${label}(${slow}): ${fmt(p.fi)} < ${fmt(p.si)}`;
    },
  );
}
