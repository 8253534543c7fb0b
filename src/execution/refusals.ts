/**
 * Why a new entry must not be made, shared by the spot runner and the futures runner: the subscription's
 * status, close-only mode, the daily loss limit (today's realised PnL of every row of the subscription,
 * futures closes the exchange made included), and a position already held on the pair (never stacked).
 * A spot account cannot open a SHORT; a futures one can.
 */
import { parseRisk } from './sizing.js';
import type { Job, JobData } from './types.js';

type Sub = NonNullable<JobData['sub']>;

export function entryRefusal(job: Job, sub: Sub, opts: { shorts: boolean }): string | null {
  const { signal, position, todayPnl } = job.data;
  if (signal!.direction === 'SHORT' && !opts.shorts) return 'SPOT_NO_SHORT: a spot account cannot open a SHORT';
  if (sub.status !== 'ACTIVE') return `SUBSCRIPTION_NOT_ACTIVE: subscription is ${sub.status}; only CLOSE signals are executed`;
  const risk = parseRisk(sub.risk);
  if (risk.closeOnly) return 'CLOSE_ONLY: the subscription is in close-only mode';
  if (risk.dailyLossLimit !== undefined) {
    const loss = -(todayPnl ?? 0);
    if (loss >= risk.dailyLossLimit) return `DAILY_LOSS_LIMIT: realised loss today ${loss.toFixed(2)} reached the limit ${risk.dailyLossLimit}; new entries resume tomorrow (UTC)`;
  }
  if (position && position.qty > 0) {
    return position.market === 'futures'
      ? `POSITION_ALREADY_OPEN: the subscription already holds a ${position.side} ${job.pair} futures position; it is never added to`
      : 'POSITION_ALREADY_OPEN: the subscription already holds this pair';
  }
  return null;
}
