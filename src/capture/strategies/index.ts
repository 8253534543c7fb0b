/**
 * Registry of the four built-in chart strategies and the `runStrategy` entry point.
 *
 * Rules (details in each file's header; BUY = OPEN LONG, SELL = CLOSE LONG):
 *   - ma-crossover:       BUY fast MA crosses above slow MA; SELL fast crosses below slow.
 *   - rsi-divergence:     BUY bullish RSI divergence from oversold; SELL bearish divergence from overbought.
 *   - bollinger-breakout: BUY close crosses above upper band; SELL first close below middle band.
 *   - macd-trend:         BUY MACD becomes above both signal and zero; SELL MACD crosses below signal.
 * Every stream of markers is long-only and alternates BUY, SELL, BUY, ... starting
 * with BUY, so it maps directly onto OPEN / CLOSE signals.
 */
import { bollingerBreakout, bollingerBreakoutDefaults, type BollingerBreakoutParams } from './bollinger-breakout.js';
import { macdTrend, macdTrendDefaults, type MacdTrendParams } from './macd-trend.js';
import { maCrossover, maCrossoverDefaults, type MaCrossoverParams } from './ma-crossover.js';
import { rsiDivergence, rsiDivergenceDefaults, type RsiDivergenceParams } from './rsi-divergence.js';
import type { Candle, Marker, StrategyRegistry } from './types.js';

export type { Candle, Marker, MarkerSide, StrategyDefinition, StrategyFn, StrategyRegistry } from './types.js';
export type { BollingerBreakoutParams, MacdTrendParams, MaCrossoverParams, RsiDivergenceParams };
export { bollingerBreakout, macdTrend, maCrossover, rsiDivergence };

/** Params type of each strategy kind. */
export interface StrategyParamsByKind {
  'ma-crossover': MaCrossoverParams;
  'rsi-divergence': RsiDivergenceParams;
  'bollinger-breakout': BollingerBreakoutParams;
  'macd-trend': MacdTrendParams;
}

/** Identifier of a built-in strategy. */
export type StrategyKind = keyof StrategyParamsByKind;

/** The built-in strategies, keyed by kind. */
export const strategies: StrategyRegistry<StrategyParamsByKind> = Object.freeze({
  'ma-crossover': {
    name: 'MA crossover',
    description:
      'BUY when the fast moving average (SMA or EMA of closes) crosses above the slow one ' +
      '(fast[i-1] <= slow[i-1] and fast[i] > slow[i]); SELL when it crosses below.',
    defaults: maCrossoverDefaults,
    run: maCrossover,
  },
  'rsi-divergence': {
    name: 'RSI divergence',
    description:
      'BUY on a bullish divergence: a confirmed swing low that is lower than the previous swing low ' +
      '(within lookback candles) while Wilder RSI is higher, the earlier RSI low being <= oversold. ' +
      'SELL on the mirror-image bearish divergence on swing highs with the earlier RSI high >= overbought.',
    defaults: rsiDivergenceDefaults,
    run: rsiDivergence,
  },
  'bollinger-breakout': {
    name: 'Bollinger breakout',
    description:
      'BUY when the close crosses above the upper Bollinger band (SMA +/- stdDev population std devs); ' +
      'SELL on the first close below the middle band.',
    defaults: bollingerBreakoutDefaults,
    run: bollingerBreakout,
  },
  'macd-trend': {
    name: 'MACD trend',
    description:
      'BUY when the MACD line becomes above both its signal line and zero (it was not on the previous candle); ' +
      'SELL when the MACD line crosses below its signal line.',
    defaults: macdTrendDefaults,
    run: macdTrend,
  },
});

/** All strategy kinds, in registry order. */
export const strategyKinds: readonly StrategyKind[] = Object.freeze(Object.keys(strategies) as StrategyKind[]);

/**
 * Type guard for untrusted input (e.g. an HTTP body).
 * @param value anything
 * @returns true if `value` names a built-in strategy
 */
export function isStrategyKind(value: unknown): value is StrategyKind {
  return typeof value === 'string' && Object.hasOwn(strategies, value);
}

/**
 * Drops every marker that would break long-only alternation: a SELL while flat
 * (including any SELL before the first BUY) or a BUY while already long.
 * Idempotent; the built-in strategies already satisfy it.
 * @param markers markers in time order
 * @returns a new array that starts with BUY and alternates BUY/SELL
 */
export function enforceLongOnly(markers: readonly Marker[]): Marker[] {
  const out: Marker[] = [];
  for (const m of markers) {
    const expected = out.length % 2 === 0 ? 'BUY' : 'SELL';
    if (m.side === expected) out.push(m);
  }
  return out;
}

/**
 * Throws a RangeError unless candles have finite OHLCV values and strictly
 * increasing finite times.
 * @param candles candles to check
 */
export function assertValidCandles(candles: readonly Candle[]): void {
  let prevTime = -Infinity;
  candles.forEach((c, i) => {
    for (const key of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      if (!Number.isFinite(c[key])) throw new RangeError(`candle ${i}: ${key} must be a finite number`);
    }
    if (c.time <= prevTime) throw new RangeError(`candle ${i}: time ${c.time} is not after ${prevTime}`);
    prevTime = c.time;
  });
}

/**
 * Runs a built-in strategy: validates the candles, merges `params` over the
 * strategy's defaults (undefined entries are ignored) and returns its markers,
 * guaranteed long-only and alternating. Pure: inputs are not modified.
 * @param kind strategy identifier
 * @param candles candles sorted by strictly increasing time
 * @param params optional overrides of the strategy's defaults
 * @returns markers in time order, each at a candle time present in `candles`
 * @throws RangeError on an unknown kind, invalid candles or invalid params
 */
export function runStrategy<K extends StrategyKind>(
  kind: K,
  candles: readonly Candle[],
  params?: Partial<StrategyParamsByKind[K]>,
): Marker[] {
  if (!isStrategyKind(kind)) throw new RangeError(`unknown strategy kind: ${String(kind)}`);
  assertValidCandles(candles);
  const def = strategies[kind];
  const overrides = Object.fromEntries(
    Object.entries(params ?? {}).filter(([, v]) => v !== undefined),
  ) as Partial<StrategyParamsByKind[K]>;
  const merged: Readonly<StrategyParamsByKind[K]> = { ...def.defaults, ...overrides };
  return enforceLongOnly(def.run(candles, merged));
}
