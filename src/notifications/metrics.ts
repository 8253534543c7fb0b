/** Notification metrics on the app's prom-client registry. */
import client, { type Registry } from 'prom-client';

export interface NotificationMetrics {
  sent(channel: string, event: string): void;
  failed(channel: string): void;
  /** Seconds from the outbox row's creation to its delivery. */
  delivery(channel: string, seconds: number): void;
}

/** Registers the counters once per registry (the api and notifier parts of one app share it). */
export function notificationMetrics(registry: Registry): NotificationMetrics {
  const existing = registry.getSingleMetric('notifications_sent_total');
  const registers = [registry];
  const sent = (existing as client.Counter<'channel' | 'event'> | undefined)
    ?? new client.Counter({ name: 'notifications_sent_total', help: 'Notifications delivered', labelNames: ['channel', 'event'], registers });
  const failed = (registry.getSingleMetric('notifications_failed_total') as client.Counter<'channel'> | undefined)
    ?? new client.Counter({ name: 'notifications_failed_total', help: 'Failed delivery attempts', labelNames: ['channel'], registers });
  const seconds = (registry.getSingleMetric('notification_delivery_seconds') as client.Histogram<'channel'> | undefined)
    ?? new client.Histogram({ name: 'notification_delivery_seconds', help: 'Outbox row created to delivered', labelNames: ['channel'], buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600], registers });
  return {
    sent: (channel, event) => sent.inc({ channel, event }),
    failed: (channel) => failed.inc({ channel }),
    delivery: (channel, s) => seconds.observe({ channel }, s),
  };
}
