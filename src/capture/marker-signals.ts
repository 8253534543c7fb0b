/**
 * From drawn markers to signals. The rules, in one place:
 *   - BUY = OPEN LONG, SELL = CLOSE LONG, at the marker's price; handled in time order.
 *   - History rule: a marker confirmed (candle open time + timeframe) before the target's
 *     watermark (when capturing of the target started − backfillSeconds) never becomes a signal,
 *     so a fresh deployment does not replay months of history.
 *   - Cursor rule: once a marker is handled, only later markers are new (a marker seen on every
 *     visit is handled once; an older one appearing late, e.g. as the candle window slides, is not).
 *   - idempotencyKey = capture:<pair>:<timeframe>:<marker time>:<side> (per strategy), so even
 *     after a restart (cursor lost) a re-sent marker is answered with the original signal.
 */
import type { SignalInput } from '../signals/index.js';
import type { Marker } from './strategies/index.js';
import type { CaptureTarget } from './targets.js';
import { TIMEFRAME_SECONDS } from './targets.js';

/** Where a target stands: markers at or before `lastHandled`, or confirmed before `watermarkSec`, are old. */
export interface MarkerCursor {
  /** Unix seconds. */
  watermarkSec: number;
  /** Open time (unix s) of the newest handled marker, or -Infinity. */
  lastHandled: number;
}

/** A new cursor for a target whose capturing starts at `startedAtMs`. */
export function startCursor(startedAtMs: number, backfillSeconds: number): MarkerCursor {
  return { watermarkSec: Math.floor(startedAtMs / 1000 - backfillSeconds), lastHandled: -Infinity };
}

/** The markers that are new for `cursor`, oldest first (one per time). */
export function newMarkers(markers: readonly Marker[], cursor: MarkerCursor, timeframe: string): Marker[] {
  const tf = TIMEFRAME_SECONDS[timeframe] ?? 0;
  const seen = new Set<number>();
  return [...markers]
    .sort((a, b) => a.time - b.time)
    .filter((m) => {
      if (m.time + tf < cursor.watermarkSec || m.time <= cursor.lastHandled || seen.has(m.time)) return false;
      seen.add(m.time);
      return true;
    });
}

/** The signal a marker stands for. */
export function markerSignal(target: CaptureTarget, m: Marker, evidence: string | undefined): SignalInput {
  return {
    strategyId: target.strategyId,
    pair: target.pair,
    action: m.side === 'BUY' ? 'OPEN' : 'CLOSE',
    direction: 'LONG',
    price: m.price,
    note: `${target.strategy} ${target.timeframe}: ${m.reason}`.slice(0, 500),
    idempotencyKey: markerKey(target, m),
    evidence,
  };
}

/** Idempotency key of a marker (unique per strategy). */
export function markerKey(target: Pick<CaptureTarget, 'pair' | 'timeframe'>, m: Pick<Marker, 'time' | 'side'>): string {
  return `capture:${target.pair}:${target.timeframe}:${m.time}:${m.side}`;
}
