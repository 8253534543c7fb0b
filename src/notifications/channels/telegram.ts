/**
 * Telegram through a bot (grammY's Api against TELEGRAM_API_ROOT). Plain text (no parse_mode): user
 * and strategy text is never interpreted as markup, so there is nothing to escape or inject.
 * Limits: at most NOTIFY_TELEGRAM_PER_SECOND messages per second for the bot (Telegram allows ~30)
 * and one message per chat per NOTIFY_TELEGRAM_CHAT_INTERVAL_MS (Telegram: ~1/s); events queued for a
 * chat meanwhile are sent together as one message. A 429 answer's retry_after is honoured.
 */
import { Api, GrammyError } from 'grammy';
import { PermanentError } from './webhook.js';
import { RetryAfterError, type ChannelSender, type Target } from '../dispatcher.js';
import { renderText, titleOf } from '../events.js';
import type { OutboxRow } from '../outbox.js';

/** Events listed one by one in a batched message; the rest are counted. */
const LISTED = 10;
const MAX_TEXT = 4000;

/** The text of one message for `rows` (one event: its full text; several: a summary and the first few). */
export function batchText(rows: OutboxRow[]): string {
  if (rows.length === 1) return renderText(rows[0]!.kind, rows[0]!.payload).slice(0, MAX_TEXT);
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  const lines = [`${rows.length} notifications: ${[...counts].map(([k, n]) => `${n} × ${titleOf(k, {})}`).join(', ')}`, ''];
  for (const r of rows.slice(0, LISTED)) {
    const reason = r.payload.reason ? ` (${String(r.payload.reason).slice(0, 120)})` : '';
    lines.push(`• ${titleOf(r.kind, r.payload)}${r.payload.strategy ? `, ${String(r.payload.strategy)}` : ''}${reason}`);
  }
  if (rows.length > LISTED) lines.push(`… and ${rows.length - LISTED} more: see Notifications → Delivery log on the site.`);
  return lines.join('\n').slice(0, MAX_TEXT);
}

/** Token bucket: `perSecond` sends per second, no burst beyond one second's worth. */
class Bucket {
  private tokens: number;
  private at = Date.now();
  private pausedUntil = 0;
  constructor(private readonly perSecond: number) { this.tokens = perSecond; }
  pause(ms: number) { this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms); }
  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (now < this.pausedUntil) { await new Promise((r) => setTimeout(r, this.pausedUntil - now)); continue; }
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) / 1000) * this.perSecond);
      this.at = now;
      if (this.tokens >= 1) { this.tokens -= 1; return; }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)));
    }
  }
}

export function telegramApi(token: string, apiRoot: string): Api {
  return new Api(token, { apiRoot });
}

export function telegramSender(opts: { api: Api; token: string; perSecond: number; chatIntervalMs: number; concurrency?: number }): ChannelSender {
  const bucket = new Bucket(opts.perSecond);
  /** userId → earliest time of the chat's next message. */
  const nextAt = new Map<string, number>();
  const scrub = (s: string) => s.split(opts.token).join('***');
  return {
    channel: 'telegram', concurrency: opts.concurrency ?? 8, perUser: 1, batch: true,
    holdMs: (userId) => Math.max(0, (nextAt.get(userId) ?? 0) - Date.now()),
    async send(target: Target, rows: OutboxRow[]) {
      await bucket.take();
      nextAt.set(target.userId, Date.now() + opts.chatIntervalMs);
      if (nextAt.size > 10_000) for (const [k, t] of nextAt) if (t < Date.now()) nextAt.delete(k);
      try {
        await opts.api.sendMessage(target.telegramChatId!, batchText(rows), { link_preview_options: { is_disabled: true } });
      } catch (err) {
        if (err instanceof GrammyError && err.error_code === 429) {
          const ms = (err.parameters.retry_after ?? 1) * 1000;
          bucket.pause(ms);
          throw new RetryAfterError(scrub(err.message), ms);
        }
        // The user blocked the bot or the chat is gone: retrying cannot help.
        if (err instanceof GrammyError && (err.error_code === 403 || err.error_code === 400)) throw new PermanentError(scrub(err.message));
        throw new Error(scrub((err as Error).message ?? String(err)));
      }
    },
  };
}
