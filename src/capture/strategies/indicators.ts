/**
 * Indicator series and shared plumbing for the built-in strategies.
 *
 * The indicator math comes from the `trading-signals` npm package (MIT, typed,
 * zero dependencies, actively maintained). This module only adapts its
 * streaming, object-oriented API into candle-aligned arrays: element `i` of
 * every series belongs to input element `i`, and is `null` while the
 * indicator is still warming up.
 *
 * Conventions (these are the library's, pinned by hand-checked tests):
 *   - SMA(n): arithmetic mean of the last n values; first value at index n-1.
 *   - EMA(n): alpha = 2/(n+1), seeded with the FIRST input value
 *     (ema_0 = x_0, ema_i = alpha*x_i + (1-alpha)*ema_{i-1}); reported from
 *     index n-1 onwards (earlier values are warm-up and returned as null).
 *   - RSI(n): Wilder smoothing. avgGain/avgLoss start as the simple mean of the
 *     first n gains/losses (first value at index n), then
 *     avg_i = avg_{i-1} + (x_i - avg_{i-1})/n. RSI = 100 - 100/(1 + avgGain/avgLoss),
 *     and 100 when avgLoss is 0.
 *   - Bollinger(n, k): middle = SMA(n) of the closes INCLUDING the current one,
 *     upper/lower = middle +/- k * POPULATION standard deviation (divide by n).
 *   - MACD(fast, slow, signal): macd = EMA(fast) - EMA(slow) (both seeded with the
 *     first close), defined from index slow-1; signal = EMA(signal) of the macd
 *     line seeded with its first value; histogram = macd - signal. Reported only
 *     once the signal EMA has seen `signal` values, i.e. from index slow+signal-2.
 */
import { BollingerBands, EMA, MACD, RSI, SMA } from 'trading-signals';
import type { Candle, Marker } from './types.js';

/** Upper/middle/lower Bollinger band values at one candle. */
export interface BandsPoint {
  upper: number;
  middle: number;
  lower: number;
}

/** MACD line, signal line and histogram at one candle. */
export interface MacdPoint {
  macd: number;
  signal: number;
  histogram: number;
}

/** Moving-average flavour accepted by {@link movingAverageSeries}. */
export type MovingAverageKind = 'sma' | 'ema';

/**
 * Simple moving average of `values`, aligned to the input.
 * @param values input series (e.g. closes)
 * @param period window length, integer >= 1
 * @returns `null` for indices < period-1, otherwise the mean of the last `period` values
 */
export function smaSeries(values: readonly number[], period: number): (number | null)[] {
  assertInteger('period', period, 1);
  const sma = new SMA(period);
  return values.map((v) => sma.add(v));
}

/**
 * Exponential moving average of `values` (alpha = 2/(period+1), seeded with the
 * first value), aligned to the input.
 * @param values input series
 * @param period integer >= 1
 * @returns `null` for indices < period-1, otherwise the EMA value
 */
export function emaSeries(values: readonly number[], period: number): (number | null)[] {
  assertInteger('period', period, 1);
  const ema = new EMA(period);
  return values.map((v, i) => {
    const value = ema.add(v);
    return i >= period - 1 ? value : null;
  });
}

/**
 * SMA or EMA series, see {@link smaSeries} and {@link emaSeries}.
 * @param values input series
 * @param period integer >= 1
 * @param kind `'sma'` or `'ema'`
 */
export function movingAverageSeries(
  values: readonly number[],
  period: number,
  kind: MovingAverageKind,
): (number | null)[] {
  if (kind === 'sma') return smaSeries(values, period);
  if (kind === 'ema') return emaSeries(values, period);
  throw new RangeError(`kind must be 'sma' or 'ema', got ${String(kind)}`);
}

/**
 * Relative Strength Index with Wilder smoothing, aligned to the input.
 * @param values input series (closes)
 * @param period integer >= 1
 * @returns `null` for indices < period, otherwise RSI in [0, 100]
 */
export function rsiSeries(values: readonly number[], period: number): (number | null)[] {
  assertInteger('period', period, 1);
  const rsi = new RSI(period);
  return values.map((v) => rsi.add(v));
}

/**
 * Bollinger Bands (SMA middle, population standard deviation), aligned to the input.
 * @param values input series (closes)
 * @param period integer >= 1
 * @param stdDev band width multiplier k (> 0)
 * @returns `null` for indices < period-1, otherwise the three bands
 */
export function bollingerSeries(values: readonly number[], period: number, stdDev: number): (BandsPoint | null)[] {
  assertInteger('period', period, 1);
  assertPositive('stdDev', stdDev);
  const bands = new BollingerBands(period, stdDev);
  return values.map((v) => {
    const r = bands.add(v);
    return r === null ? null : { upper: r.upper, middle: r.middle, lower: r.lower };
  });
}

/**
 * MACD (EMA-based), aligned to the input.
 * @param values input series (closes)
 * @param fast fast EMA period, integer >= 1
 * @param slow slow EMA period, integer > fast
 * @param signal signal EMA period, integer >= 1
 * @returns `null` for indices < slow+signal-2, otherwise macd/signal/histogram
 */
export function macdSeries(
  values: readonly number[],
  fast: number,
  slow: number,
  signal: number,
): (MacdPoint | null)[] {
  assertInteger('fast', fast, 1);
  assertInteger('slow', slow, fast + 1);
  assertInteger('signal', signal, 1);
  const macd = new MACD(new EMA(fast), new EMA(slow), new EMA(signal));
  return values.map((v) => {
    const r = macd.add(v);
    if (r === null || !macd.signal.isStable) return null;
    return { macd: r.macd, signal: r.signal, histogram: r.histogram };
  });
}

/** Returns the closes of `candles`. */
export function closes(candles: readonly Candle[]): number[] {
  return candles.map((c) => c.close);
}

/**
 * Rule callback for {@link scanLongOnly}: given a candle index, return a reason
 * string if the rule fires on that candle, or `null` if it does not.
 */
export type RuleAt = (index: number) => string | null;

/**
 * Walks the candles in order holding a long-only position flag and turns the
 * entry/exit rules into strictly alternating markers: while flat only `entry`
 * is evaluated (fires -> BUY, now long); while long only `exit` is evaluated
 * (fires -> SELL, now flat). So there is never a SELL before the first BUY and
 * never two BUYs or two SELLs in a row. Markers use the candle's time and close.
 * @param candles input candles, sorted by time
 * @param entry entry rule (OPEN LONG)
 * @param exit exit rule (CLOSE LONG)
 */
export function scanLongOnly(candles: readonly Candle[], entry: RuleAt, exit: RuleAt): Marker[] {
  const markers: Marker[] = [];
  let long = false;
  for (let i = 0; i < candles.length; i++) {
    const candle = candles[i];
    const reason = long ? exit(i) : entry(i);
    if (reason === null) continue;
    markers.push({ time: candle.time, side: long ? 'SELL' : 'BUY', price: candle.close, reason });
    long = !long;
  }
  return markers;
}

/**
 * Formats a number for marker reasons: at most 6 significant digits, no
 * trailing zeros (deterministic, locale independent).
 */
export function fmt(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/**
 * Throws a RangeError unless `value` is an integer >= `min`.
 * @param name parameter name used in the message
 */
export function assertInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/**
 * Throws a RangeError unless `value` is a finite number > 0.
 * @param name parameter name used in the message
 */
export function assertPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a finite number > 0, got ${String(value)}`);
  }
}
