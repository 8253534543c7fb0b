/**
 * Metrics: one prom-client Registry per app instance (several apps can live in one test process).
 * Modules get the typed helpers they need; GET /metrics renders the registry.
 */
import client from 'prom-client';
import { droppedLogLines, pendingLogBytes } from '../lib/logger.js';
import type { CoordinatorMetrics, StoreMetrics } from '../signals/index.js';

/** Default metrics that are gauges despite their `_total` name (dropped; `sum()` of the per-type gauge gives them). */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export class Metrics {
  readonly registry = new client.Registry();
  readonly signalsAccepted = new client.Counter({ name: 'signals_accepted_total', help: 'Signals accepted', labelNames: ['source'], registers: [this.registry] });
  readonly signalsDuplicate = new client.Counter({ name: 'signals_duplicate_total', help: 'Repeat deliveries answered with the original signal', labelNames: ['source'], registers: [this.registry] });
  readonly signalsRejected = new client.Counter({ name: 'signals_rejected_total', help: 'Signals refused', labelNames: ['source', 'code'], registers: [this.registry] });
  readonly ingestSeconds = new client.Histogram({
    name: 'signal_ingest_duration_seconds', help: 'Accept latency: validation to DB commit and JSON store written', labelNames: ['source'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry],
  });
  readonly acceptBatchSize = new client.Histogram({
    name: 'signal_accept_batch_signals', help: 'Signals decided in one accept transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64], registers: [this.registry],
  });
  readonly storeWriteSeconds = new client.Histogram({
    name: 'json_store_flush_duration_seconds', help: 'One coalesced JSON store flush (all changed files, fsynced)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry],
  });
  readonly storeWriteBytes = new client.Counter({ name: 'json_store_written_bytes_total', help: 'Bytes written by the JSON store', registers: [this.registry] });
  readonly httpRequests = new client.Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'status'], registers: [this.registry] });
  // Process-wide (one stdout per process), read when /metrics is rendered.
  readonly logLinesDropped = new client.Counter({
    name: 'log_lines_dropped_total', help: 'Log lines dropped because the stdout reader was too slow (LOG_BUFFER_BYTES full) or gone',
    registers: [this.registry], collect() { this.reset(); this.inc(droppedLogLines()); },
  });
  readonly logPendingBytes = new client.Gauge({
    name: 'log_buffered_bytes', help: 'Log text waiting for the stdout reader', registers: [this.registry],
    collect() { this.set(pendingLogBytes()); },
  });

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    client.collectDefaultMetrics({ register: this.registry });
    // prom-client's totals of active handles/requests/resources are gauges named `_total`, which
    // `promtool check metrics` refuses (the suffix promises a counter); sum the per-type gauges instead.
    for (const name of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(name);
  }

  coordinator(): CoordinatorMetrics {
    return {
      accepted: (source) => this.signalsAccepted.inc({ source }),
      duplicate: (source) => this.signalsDuplicate.inc({ source }),
      rejected: (source, code) => this.signalsRejected.inc({ source, code }),
      latency: (source, s) => this.ingestSeconds.observe({ source }, s),
      batch: (n) => this.acceptBatchSize.observe(n),
    };
  }

  store(): StoreMetrics {
    return { writeSeconds: (s, bytes) => { this.storeWriteSeconds.observe(s); this.storeWriteBytes.inc(bytes); } };
  }
}
