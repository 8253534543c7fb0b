/**
 * Notifications (outgoing): Telegram, email and signed webhooks for subscribers, digests for authors,
 * alerts for operators. Durable and at least once: events are derived from committed ExecutionLog rows
 * (deriver.ts) into an outbox in PostgreSQL (outbox.ts) that per-channel delivery loops drain
 * (dispatcher.ts), never in the executor's path. Role `api` serves the settings REST; role `notifier`
 * runs the deriver, the delivery loops, the Telegram bot's polling, the digests and the alerts.
 */
import pg from 'pg';
import type { Registry } from 'prom-client';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import type { TokenService } from '../http/auth.js';
import type { Keyring } from '../lib/crypto.js';
import type { Logger } from '../lib/logger.js';
import { TOPICS, type Bus } from '../bus/index.js';
import { AlertMonitor } from './alerts.js';
import { TelegramPoller } from './bot.js';
import { emailSender } from './channels/email.js';
import { telegramApi, telegramSender } from './channels/telegram.js';
import { sendWebhook } from './channels/webhook.js';
import { Deriver } from './deriver.js';
import { RefusalCounter, writeDigests } from './digest.js';
import { Dispatcher, type ChannelSender, type Target } from './dispatcher.js';
import { notificationMetrics } from './metrics.js';
import { notificationRoutes } from './routes.js';

export { signatureHeader } from './channels/webhook.js';
export { isPrivateAddress, resolveTarget } from './ssrf.js';

type NotifyConfig = Pick<Config, 'roles' | 'production' | 'notify'>;
/** What the notifier uses (its own pool unless the database is embedded; `keyring` opens webhook secrets). */
export interface NotifierDeps { config: NotifyConfig; log: Logger; registry: Registry; db: Database; bus: Bus; keyring: Keyring }

/** The module's components for this process's roles. */
export function notificationComponents(ctx: NotifierDeps & { tokens: TokenService }): Component[] {
  const list: Component[] = [];
  const { config } = ctx;
  const policy = { production: config.production, allowPrivate: config.notify.allowPrivateTargets };
  if (config.roles.has('api')) {
    const telegram = config.notify.telegramBotToken ? telegramApi(config.notify.telegramBotToken, config.notify.telegramApiRoot) : undefined;
    const refusals = new RefusalCounter(ctx.db.pool, config.notify.digestMs, ctx.log.child({ module: 'notifications' }));
    list.push({
      name: 'notifications-api', start: async () => {}, stop: () => refusals.stop(),
      earlyRouters: [refusals.router()],
      routers: [notificationRoutes({ prisma: ctx.db.prisma, tokens: ctx.tokens, keyring: ctx.keyring, policy, emailConfigured: !!config.notify.smtpUrl, telegram })],
    });
  }
  if (config.roles.has('notifier')) list.push(notifierComponent(ctx));
  return list;
}

/** The notifier: deriver loop, one delivery loop per configured channel, the Telegram poller. */
export function notifierComponent(ctx: NotifierDeps): Component {
  const { config, db, log: appLog } = ctx;
  const n = config.notify;
  const log = appLog.child({ module: 'notifier' });
  const metrics = notificationMetrics(ctx.registry);
  const policy = { production: config.production, allowPrivate: n.allowPrivateTargets };
  // Its own small pool (a server database): a burst of deliveries never queues behind, or ahead of, the executor's queries.
  const pool = db.embedded ? db.pool : new pg.Pool({ connectionString: db.url, max: 5 });
  pool.on('error', (err) => log.error({ err }, 'notifier pool error'));
  // A connection cut while checked out must not become an uncaught error (see src/db/index.ts).
  if (pool !== db.pool) pool.on('connect', (c) => { c.on('error', (err) => log.warn({ err: err.message }, 'notifier database connection lost')); });
  const deriver = new Deriver(pool, { rescanMs: n.rescanMs, log });
  const senders: ChannelSender[] = [{
    channel: 'webhook', concurrency: 16, perUser: 2, batch: false,
    async send(t: Target, rows) {
      const secret = ctx.keyring.decrypt(t.webhookSecretEnc!);
      for (const r of rows) await sendWebhook({ url: t.webhookUrl!, secret }, r, { ...policy, timeoutMs: n.webhookTimeoutMs });
    },
  }];
  const email = n.smtpUrl ? emailSender({ smtpUrl: n.smtpUrl, from: n.smtpFrom, siteUrl: n.siteUrl }) : undefined;
  if (email) senders.push(email);
  const api = n.telegramBotToken ? telegramApi(n.telegramBotToken, n.telegramApiRoot) : undefined;
  if (api) senders.push(telegramSender({ api, token: n.telegramBotToken!, perSecond: n.telegramPerSecond, chatIntervalMs: n.telegramChatIntervalMs }));
  const targets = async (userIds: string[]) => {
    const r = await pool.query<Target>(
      `SELECT u.id AS "userId", u.email, COALESCE(ns."emailEnabled", false) AS "emailEnabled", ns."telegramChatId", ns."webhookUrl", ns."webhookSecretEnc"
       FROM "User" u LEFT JOIN "NotificationSettings" ns ON ns."userId" = u.id WHERE u.id = ANY($1::uuid[])`, [userIds]);
    return new Map(r.rows.map((t) => [t.userId, t]));
  };
  const dispatchers = senders.map((s) => new Dispatcher(s, { pool, log, metrics, pollMs: n.pollMs, leaseMs: n.leaseMs, retryBaseMs: n.retryBaseMs, retryMaxMs: n.retryMaxMs, maxAgeMs: n.maxAgeMs }, targets));
  const poller = api ? new TelegramPoller({ prisma: db.prisma, bus: ctx.bus, log, token: n.telegramBotToken!, apiRoot: n.telegramApiRoot, pool, useLock: !db.embedded }) : undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeDeriver: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  let lastPrune = 0;
  const alerts = new AlertMonitor({ pool, bus: ctx.bus, log });
  const timers: NodeJS.Timeout[] = [];
  /** Runs `f` every `ms`, never two at once, errors logged. */
  const every = (ms: number, what: string, f: () => Promise<unknown>) => {
    let busy = false;
    const t = setInterval(() => {
      if (busy || !running) return;
      busy = true;
      f().catch((err) => log.warn({ err }, `${what} failed`)).finally(() => { busy = false; });
    }, ms);
    timers.push(t);
  };

  async function deriveLoop() {
    while (running) {
      let full = false;
      try {
        const r = await deriver.step();
        if (r.queued) { for (const d of dispatchers) d.wake(); await ctx.bus.publish(TOPICS.notificationQueued, {}).catch(() => {}); }
        full = r.sources >= 500;
        if (Date.now() - lastPrune > 3_600_000) { lastPrune = Date.now(); await deriver.prune(); }
      } catch (err) {
        log.warn({ err }, 'notification derive failed');
      }
      if (full) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, n.pollMs);
        wakeDeriver = () => { clearTimeout(t); resolve(); };
      });
      wakeDeriver = undefined;
    }
  }

  return {
    name: 'notifier',
    async start() {
      await deriver.init();
      running = true;
      unsubscribe = ctx.bus.subscribe(TOPICS.notificationQueued, () => { for (const d of dispatchers) d.wake(); });
      for (const d of dispatchers) d.start();
      loop = deriveLoop();
      alerts.start();
      every(n.alertIntervalMs, 'operator alert check', () => alerts.check());
      every(Math.min(30_000, Math.max(1000, n.digestMs / 4)), 'author digest', async () => { if (await writeDigests(pool, n.digestMs)) for (const d of dispatchers) d.wake(); });
      await poller?.start();
      log.info({ channels: senders.map((s) => s.channel), telegramPolling: !!poller }, 'notifier started');
    },
    async stop() {
      if (!running) return;
      running = false;
      unsubscribe?.();
      for (const t of timers.splice(0)) clearInterval(t);
      alerts.stop();
      wakeDeriver?.();
      await loop;
      await poller?.stop();
      await Promise.all(dispatchers.map((d) => d.stop()));
      email?.close();
      if (pool !== db.pool) await pool.end().catch(() => {});
    },
    health: async () => ({ ok: running, channels: senders.map((s) => s.channel) }),
  };
}
