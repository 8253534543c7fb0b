/**
 * Capture metrics on the app's prom-client registry (GET /metrics):
 *   capture_visits_total{target,outcome=ok|failed}        captures (page visits) and their outcome
 *   capture_failures_total{target,reason}                  failures by reason: timeout|page_error|browser|extract|evidence
 *   capture_duration_seconds{target}                       visit latency (page open → markers read → screenshot)
 *   capture_signals_total{target,outcome}                  signals produced: accepted|duplicate|refused|error
 *   capture_browser_launches_total{reason=start|recycle|crash}, capture_browser_crashes_total
 */
import client, { type Registry } from 'prom-client';

export type FailureReason = 'timeout' | 'page_error' | 'browser' | 'extract' | 'evidence';
export type SignalOutcome = 'accepted' | 'duplicate' | 'refused' | 'error';

export class CaptureMetrics {
  readonly visits: client.Counter<'target' | 'outcome'>;
  readonly failures: client.Counter<'target' | 'reason'>;
  readonly duration: client.Histogram<'target'>;
  readonly signals: client.Counter<'target' | 'outcome'>;
  readonly launches: client.Counter<'reason'>;
  readonly crashes: client.Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.visits = new client.Counter({ name: 'capture_visits_total', help: 'Chart captures (page visits) by outcome', labelNames: ['target', 'outcome'], registers });
    this.failures = new client.Counter({ name: 'capture_failures_total', help: 'Failed captures by reason', labelNames: ['target', 'reason'], registers });
    this.duration = new client.Histogram({
      name: 'capture_duration_seconds', help: 'One capture: open page, read markers, screenshot', labelNames: ['target'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30], registers,
    });
    this.signals = new client.Counter({ name: 'capture_signals_total', help: 'Signals produced from captured markers, by coordinator outcome', labelNames: ['target', 'outcome'], registers });
    this.launches = new client.Counter({ name: 'capture_browser_launches_total', help: 'Chromium launches by reason', labelNames: ['reason'], registers });
    this.crashes = new client.Counter({ name: 'capture_browser_crashes_total', help: 'Chromium disconnects that were not asked for (crash, kill)', registers });
  }

  ok(target: string, seconds: number): void { this.visits.inc({ target, outcome: 'ok' }); this.duration.observe({ target }, seconds); }
  failed(target: string, reason: FailureReason, seconds: number): void {
    this.visits.inc({ target, outcome: 'failed' });
    this.failures.inc({ target, reason });
    this.duration.observe({ target }, seconds);
  }
  signal(target: string, outcome: SignalOutcome): void { this.signals.inc({ target, outcome }); }
  browserLaunch(reason: 'start' | 'recycle' | 'crash'): void { this.launches.inc({ reason }); }
  browserCrash(): void { this.crashes.inc(); }
}
