/**
 * Strategy: MACD trend (long-only).
 *
 * MACD = EMA(fast) - EMA(slow) of the closes, signal = EMA(signal) of MACD,
 * histogram = MACD - signal (exact math in indicators.ts). A candle is
 * "bullish" when MACD > signal AND MACD > 0 (momentum up, inside an uptrend).
 * Rule, on each candle i where MACD/signal are defined at i-1 and i:
 *   - BUY  (open long)  when candle i is bullish and candle i-1 was not, i.e. the MACD
 *                       line crosses above its signal line while above zero, or crosses
 *                       above zero while already above its signal line.
 *   - SELL (close long) when the MACD line crosses below its signal line (anywhere):
 *                       histogram[i-1] >= 0 and histogram[i] < 0.
 * A bullish signal-line cross below zero is deliberately NOT an entry.
 */
import { assertInteger, closes, fmt, macdSeries, scanLongOnly, type MacdPoint } from './indicators.js';
import type { Candle, Marker } from './types.js';

/** Parameters of {@link macdTrend}. */
export interface MacdTrendParams {
  /** Fast EMA period, integer >= 1. */
  fast: number;
  /** Slow EMA period, integer > fast. */
  slow: number;
  /** Signal EMA period, integer >= 1. */
  signal: number;
}

/** Default parameters: the classic MACD(12, 26, 9). */
export const macdTrendDefaults: Readonly<MacdTrendParams> = Object.freeze({ fast: 12, slow: 26, signal: 9 });

/** True when the MACD line is above both its signal line and zero. */
function isBullish(p: MacdPoint): boolean {
  return p.macd > p.signal && p.macd > 0;
}

/**
 * MACD trend: BUY when MACD becomes above both signal and zero, SELL when MACD crosses below signal.
 * @param candles candles sorted by time
 * @param params fast/slow/signal EMA periods
 * @returns alternating long-only markers
 * @throws RangeError on invalid params
 */
export function macdTrend(candles: readonly Candle[], params: MacdTrendParams): Marker[] {
  const { fast, slow, signal } = params;
  assertInteger('fast', fast, 1);
  assertInteger('slow', slow, fast + 1);
  assertInteger('signal', signal, 1);
  const series = macdSeries(closes(candles), fast, slow, signal);
  const label = `MACD(${fast},${slow},${signal})`;

  return scanLongOnly(
    candles,
    (i) => {
      const prev = series[i - 1];
      const cur = series[i];
      if (i < 1 || prev == null || cur == null) return null;
      if (!(isBullish(cur) && !isBullish(prev))) return null;
      return `${label} ${fmt(cur.macd)} above signal ${fmt(cur.signal)} and above zero`;
    },
    (i) => {
      const prev = series[i - 1];
      const cur = series[i];
      if (i < 1 || prev == null || cur == null) return null;
      if (!(prev.histogram >= 0 && cur.histogram < 0)) return null;
      return `${label} ${fmt(cur.macd)} crossed below signal ${fmt(cur.signal)}`;
    },
  );
}
