/** Trade monitor metrics on the app's prom-client registry. */
import client from 'prom-client';
import type { Registry } from 'prom-client';
/** How one stop-loss/take-profit close ended (defined here, beside its counter, so closer.ts and this file form no cycle). */
export type CloseOutcome = 'closed' | 'already_closed' | 'refused';

export class MonitorMetrics {
  private readonly closes: client.Counter<'reason' | 'outcome'>;
  private readonly crossToAccepted: client.Histogram;
  readonly evaluateSeconds: client.Histogram;
  readonly pollErrors: client.Counter;

  /**
   * @param state live values read at scrape time: trades watched, pairs polled, seconds since the
   *   last successful ticker poll (the price-feed lag)
   */
  constructor(registry: Registry, state: () => { trades: number; pairs: number; feedLagSeconds: number }) {
    const registers = [registry];
    this.closes = new client.Counter({ name: 'monitor_closes_total', help: 'Monitor closes by reason (STOP_LOSS|TAKE_PROFIT) and outcome (closed|already_closed|refused)', labelNames: ['reason', 'outcome'], registers });
    this.crossToAccepted = new client.Histogram({ name: 'monitor_cross_to_accepted_seconds', help: 'Crossing detected to CLOSE accepted', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.evaluateSeconds = new client.Histogram({ name: 'monitor_tick_evaluate_seconds', help: 'Evaluating one poll of ticks against the trigger book', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1], registers });
    this.pollErrors = new client.Counter({ name: 'monitor_price_poll_errors_total', help: 'Failed ticker polls', registers });
    new client.Gauge({ name: 'monitor_trades_watched', help: 'Open trades with a stop loss or take profit being monitored', registers, collect() { this.set(state().trades); } });
    new client.Gauge({ name: 'monitor_pairs_watched', help: 'Pairs polled for prices', registers, collect() { this.set(state().pairs); } });
    new client.Gauge({ name: 'monitor_price_feed_lag_seconds', help: 'Seconds since the last successful ticker poll', registers, collect() { this.set(state().feedLagSeconds); } });
  }

  closed(reason: string, outcome: CloseOutcome, seconds: number): void {
    this.closes.inc({ reason, outcome });
    if (outcome === 'closed') this.crossToAccepted.observe(seconds);
  }
}
