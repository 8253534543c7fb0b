/** Executor metrics on the app's prom-client registry. */
import client from 'prom-client';
import type { Registry } from 'prom-client';

export class ExecutorMetrics {
  readonly orders: client.Counter<'status' | 'exchange' | 'mode'>;
  readonly exchangeSeconds: client.Histogram<'exchange'>;
  readonly signalToFinalSeconds: client.Histogram<'exchange'>;
  readonly overheadSeconds: client.Histogram;
  readonly retries: client.Counter<'exchange'>;
  /** Recent per-job overhead samples (ms), for benchmarks. */
  readonly overheadSamples: number[] = [];
  /** Per job, the parts of the overhead (ms): job start → first exchange call, and the final status's durable write. */
  readonly preSendSamples: number[] = [];
  readonly recordSamples: number[] = [];

  constructor(registry: Registry, lag: () => Promise<{ pending: number; lagSeconds: number }>) {
    const registers = [registry];
    this.orders = new client.Counter({ name: 'executor_orders_total', help: 'Executions by final status', labelNames: ['status', 'exchange', 'mode'], registers });
    this.retries = new client.Counter({ name: 'executor_retries_total', help: 'Executions given back for a later attempt', labelNames: ['exchange'], registers });
    this.exchangeSeconds = new client.Histogram({ name: 'executor_exchange_seconds', help: 'Time in exchange calls per execution', labelNames: ['exchange'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.signalToFinalSeconds = new client.Histogram({ name: 'executor_order_latency_seconds', help: 'Intent created to final status', labelNames: ['exchange'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
    this.overheadSeconds = new client.Histogram({ name: 'executor_overhead_seconds', help: 'Our own time per execution (total minus exchange calls)', buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1], registers });
    new client.Gauge({ name: 'executor_queue_depth', help: 'PENDING executions', registers, async collect() { this.set((await lag()).pending); } });
    new client.Gauge({ name: 'executor_lag_seconds', help: 'Age of the oldest ready PENDING execution', registers, async collect() { this.set((await lag()).lagSeconds); } });
  }

  overhead(ms: number, parts: { preSendMs?: number; recordMs?: number } = {}) {
    this.overheadSeconds.observe(ms / 1000);
    keep(this.overheadSamples, ms);
    if (parts.preSendMs !== undefined) keep(this.preSendSamples, parts.preSendMs);
    if (parts.recordMs !== undefined) keep(this.recordSamples, parts.recordMs);
  }
}

function keep(samples: number[], ms: number) {
  samples.push(ms);
  if (samples.length > 20_000) samples.splice(0, 10_000);
}
