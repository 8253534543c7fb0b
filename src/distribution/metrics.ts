/**
 * Distributor metrics on the app's prom-client registry. Per-message counts are kept as plain numbers
 * on the hot path and handed to prom-client when /metrics is scraped.
 */
import client from 'prom-client';

export type CloseReason = 'slow' | 'dead' | 'token_expired' | 'too_many_sockets';
/** How an upgrade presented its credential (query_token: the deprecated ?token=). */
export type AuthMethod = 'header' | 'ticket' | 'query_token';

export class DistributionMetrics {
  /** Frames written to sockets (all types), since start. */
  sent = 0;
  private reportedSent = 0;
  private readonly closes: client.Counter<'reason'>;
  private readonly fanout: client.Histogram;
  private readonly resyncs: client.Counter;
  private readonly auths: client.Counter<'method'>;

  constructor(registry: client.Registry, connected: () => number) {
    const self = this;
    new client.Gauge({ name: 'ws_clients_connected', help: 'WebSocket clients connected to this process', registers: [registry], collect() { this.set(connected()); } });
    new client.Counter({
      name: 'ws_messages_sent_total', help: 'WebSocket frames sent to clients', registers: [registry],
      collect() { this.inc(self.sent - self.reportedSent); self.reportedSent = self.sent; },
    });
    this.closes = new client.Counter({ name: 'ws_closed_total', help: 'Sockets closed by the server: slow (buffer full, 1013), dead (no pong), token_expired (4401), too_many_sockets (per-user cap, 1008)', labelNames: ['reason'], registers: [registry] });
    this.fanout = new client.Histogram({
      name: 'ws_fanout_duration_seconds', help: 'One signal: from reaching this process in seq order to its last socket write (end of the batched flush)',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
    });

    this.auths = new client.Counter({ name: 'ws_upgrade_auth_total', help: 'Upgrade attempts by credential: header (Bearer), ticket (?ticket=), query_token (deprecated ?token=)', labelNames: ['method'], registers: [registry] });
    this.resyncs = new client.Counter({ name: 'ws_routes_resync_corrections_total', help: 'Users whose routes the periodic resync corrected (a subscription.changed message was lost)', registers: [registry] });
  }

  closed(reason: CloseReason) { this.closes.inc({ reason }); }
  authenticated(method: AuthMethod) { this.auths.inc({ method }); }
  resyncCorrections(n: number) { this.resyncs.inc(n); }
  fanoutSeconds(s: number) { this.fanout.observe(s); }
}
