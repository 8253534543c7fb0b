/**
 * Email through SMTP (nodemailer, SMTP_URL): one plain-text mail per event to the account's address.
 * The event id goes in a header so a receiving script can deduplicate (delivery is at least once).
 */
import nodemailer from 'nodemailer';
import type { ChannelSender, Target } from '../dispatcher.js';
import { renderText, titleOf } from '../events.js';
import type { OutboxRow } from '../outbox.js';

export function emailSender(opts: { smtpUrl: string; from: string; siteUrl?: string; concurrency?: number }): ChannelSender & { close(): void } {
  const transport = nodemailer.createTransport(opts.smtpUrl);
  return {
    channel: 'email', concurrency: opts.concurrency ?? 4, perUser: 2, batch: false,
    async send(target: Target, rows: OutboxRow[]) {
      for (const r of rows) {
        await transport.sendMail({
          from: opts.from, to: target.email, subject: `[Signal Marketplace] ${titleOf(r.kind, r.payload)}`,
          text: `${renderText(r.kind, r.payload)}\n\nEvent id: ${r.eventId}\nChange which events reach you under Notifications on the site${opts.siteUrl ? ` (${opts.siteUrl}/notifications)` : ''}.\n`,
          headers: { 'X-Signal-Marketplace-Event-Id': r.eventId },
        });
      }
    },
    close: () => transport.close(),
  };
}
