/** Futures reconciliation metrics on the app's prom-client registry (role executor). */
import client from 'prom-client';
import type { Registry } from 'prom-client';

export class ReconcileMetrics {
  private readonly pollSeconds: client.Histogram;
  private readonly records: client.Counter<'kind'>;
  private readonly keyFailures: client.Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.pollSeconds = new client.Histogram({ name: 'reconcile_poll_seconds', help: 'Duration of one futures reconciliation poll', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    this.records = new client.Counter({ name: 'reconcile_records_total', help: 'What the futures reconciliation recorded: closed, reduced, mismatch, paper_closed', labelNames: ['kind'], registers });
    this.keyFailures = new client.Counter({ name: 'reconcile_key_failures_total', help: 'Keys left for the next period: busy (no budget), error', labelNames: ['reason'], registers });
  }

  poll(seconds: number, r: { closed: number; reduced: number; mismatches: number; paperClosed: number; busyKeys: number; failedKeys: number }): void {
    this.pollSeconds.observe(seconds);
    for (const [kind, n] of [['closed', r.closed], ['reduced', r.reduced], ['mismatch', r.mismatches], ['paper_closed', r.paperClosed]] as const) if (n) this.records.inc({ kind }, n);
    if (r.busyKeys) this.keyFailures.inc({ reason: 'busy' }, r.busyKeys);
    if (r.failedKeys) this.keyFailures.inc({ reason: 'error' }, r.failedKeys);
  }
}
