/**
 * Shared types for the built-in chart strategies.
 *
 * A strategy is a pure function `(candles, params) => markers`: no I/O, no clock,
 * no randomness, no mutation of its inputs. The same candles and params always
 * give the same markers.
 *
 * Marker semantics (all built-in strategies are LONG-ONLY):
 *   - `BUY`  = OPEN LONG  (enter a long position; only emitted while flat)
 *   - `SELL` = CLOSE LONG (exit the long position; only emitted while long)
 * So a marker stream always starts with BUY and strictly alternates
 * BUY, SELL, BUY, SELL, ... It may end on a BUY (position still open).
 */

/**
 * One OHLCV candle. `time` is the candle OPEN time in unix seconds (the
 * lightweight-charts `UTCTimestamp` convention). Arrays of candles passed to a
 * strategy must be sorted by strictly increasing `time`.
 */
export interface Candle {
  /** Candle open time, unix seconds. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Marker side: `BUY` = OPEN LONG, `SELL` = CLOSE LONG. */
export type MarkerSide = 'BUY' | 'SELL';

/**
 * A buy/sell marker drawn on the chart.
 *
 * The marker sits on the candle whose CLOSE confirmed the rule: `time` is that
 * candle's `time` (always a time present in the input) and `price` is its
 * `close`. The signal is therefore only actionable once that candle has closed.
 */
export interface Marker {
  /** `time` of the candle that triggered the marker (unix seconds, candle open). */
  time: number;
  /** `BUY` = OPEN LONG, `SELL` = CLOSE LONG. */
  side: MarkerSide;
  /** Close price of the triggering candle. */
  price: number;
  /** Human-readable explanation of why the rule fired. */
  reason: string;
}

/** A strategy: pure function from candles and params to long-only markers. */
export type StrategyFn<P> = (candles: readonly Candle[], params: Readonly<P>) => Marker[];

/** Registry entry describing one strategy. */
export interface StrategyDefinition<P> {
  /** Display name. */
  name: string;
  /** One-paragraph description of the exact rule. */
  description: string;
  /** Default parameters used by `runStrategy` for anything not supplied. */
  defaults: Readonly<P>;
  /** The strategy function itself. */
  run: StrategyFn<P>;
}

/**
 * A registry of strategies keyed by kind, given a map `kind -> params type`.
 * Example: `StrategyRegistry<{ 'ma-crossover': MaCrossoverParams }>`.
 */
export type StrategyRegistry<ParamsByKind extends { [K in keyof ParamsByKind]: object }> = {
  readonly [K in keyof ParamsByKind]: StrategyDefinition<ParamsByKind[K]>;
};
