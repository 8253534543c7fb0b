/**
 * The Telegram bot's side of a conversation: `/start <token>` links the chat to the account that asked
 * for the deep link (token single-use, expiring, stored as sha256), /status lists the user's
 * subscriptions, /pause and /resume change them like PATCH /api/subscriptions/:id { status } does
 * (and publish subscription.changed). Long polling runs in one process at a time: the holder of a
 * PostgreSQL session advisory lock (one connection kept while polling).
 */
import { createHash } from 'node:crypto';
import { Bot } from 'grammy';
import type pg from 'pg';
import type { PrismaClient } from '@prisma/client';
import { TOPICS, type Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';

/** pg_advisory_lock key of the Telegram poller ("SMTG"). */
const POLL_LOCK = 0x534d5447;

export const hashLinkToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface BotDeps { prisma: PrismaClient; bus: Bus; log: Logger }

/** Links `chatId` to the token's user; false when the token is unknown, used or expired. */
export async function linkChat(prisma: PrismaClient, token: string, chatId: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const used = await tx.telegramLinkToken.updateMany({ where: { tokenHash: hashLinkToken(token), usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
    if (used.count !== 1) return false;
    const t = await tx.telegramLinkToken.findUniqueOrThrow({ where: { tokenHash: hashLinkToken(token) } });
    // A chat belongs to one account: linking it here unlinks it elsewhere.
    await tx.notificationSettings.updateMany({ where: { telegramChatId: chatId, NOT: { userId: t.userId } }, data: { telegramChatId: null } });
    await tx.notificationSettings.upsert({ where: { userId: t.userId }, create: { userId: t.userId, telegramChatId: chatId }, update: { telegramChatId: chatId, updatedAt: new Date() } });
    return true;
  });
}

/** The reply to a command from `chatId` (exported for tests and for other transports). */
export async function answer(deps: BotDeps, chatId: string, command: string, arg: string): Promise<string> {
  const { prisma, bus } = deps;
  if (command === 'start') {
    if (!arg) return 'Open Notifications on the Signal Marketplace site and press "Link Telegram" to link this chat.';
    return (await linkChat(prisma, arg, chatId))
      ? 'This chat is linked. You will get the notifications chosen on the site. Commands: /status, /pause, /resume.'
      : 'This link is invalid, used or expired. Ask for a new one on the site.';
  }
  const settings = await prisma.notificationSettings.findUnique({ where: { telegramChatId: chatId } });
  if (!settings) return 'This chat is not linked to an account. Link it from Notifications on the site.';
  const userId = settings.userId;
  if (command === 'status') {
    const subs = await prisma.subscription.findMany({ where: { userId, status: { in: ['ACTIVE', 'PAUSED'] } }, include: { strategy: { select: { name: true } } }, orderBy: { createdAt: 'asc' } });
    if (!subs.length) return 'You have no active or paused subscriptions.';
    return ['Your subscriptions:', ...subs.map((s) => `• ${s.strategy.name}: ${s.status.toLowerCase()}${s.keysInvalid ? ' (API keys refused)' : ''}`)].join('\n');
  }
  if (command === 'pause' || command === 'resume') {
    const from = command === 'pause' ? 'ACTIVE' : 'PAUSED';
    const to = command === 'pause' ? 'PAUSED' : 'ACTIVE';
    const subs = await prisma.subscription.findMany({ where: { userId, status: from } });
    for (const s of subs) {
      const updated = await prisma.subscription.updateMany({ where: { id: s.id, status: from }, data: { status: to } });
      if (updated.count) await bus.publish(TOPICS.subscriptionChanged, { subscriptionId: s.id, userId, strategyId: s.strategyId, status: to }).catch(() => {});
    }
    return subs.length ? `${command === 'pause' ? 'Paused' : 'Resumed'} ${subs.length} subscription${subs.length === 1 ? '' : 's'}.` : `No ${from.toLowerCase()} subscriptions to ${command}.`;
  }
  return 'Commands: /status, /pause, /resume.';
}

/** Long-polls the bot's updates while this process holds the poll lock; retries the lock every 10 s. */
export class TelegramPoller {
  private bot?: Bot;
  private lockClient?: pg.PoolClient;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: BotDeps & { token: string; apiRoot: string; pool: pg.Pool; useLock: boolean }) {}

  async start(): Promise<void> { await this.tryStart(); }

  private async tryStart(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.deps.useLock) {
        const client = await this.deps.pool.connect();
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [POLL_LOCK]).catch(() => ({ rows: [{ ok: false }] }));
        if (!r.rows[0]!.ok) { client.release(); this.retryLater(); return; }
        this.lockClient = client;
        // The connection dying frees the lock server-side: stop polling so another process can take over.
        client.on('error', () => { void this.release().then(() => this.retryLater()); });
      }
      const bot = new Bot(this.deps.token, { client: { apiRoot: this.deps.apiRoot } });
      bot.on('message:text', async (ctx) => {
        const m = /^\/([a-z]+)(?:@\w+)?(?:\s+(.*))?$/i.exec(ctx.message.text.trim());
        if (!m) return;
        if (ctx.chat.type !== 'private') { await ctx.reply('Use this bot in a private chat.'); return; }
        const text = await answer(this.deps, String(ctx.chat.id), m[1]!.toLowerCase(), (m[2] ?? '').trim());
        await ctx.reply(text);
      });
      bot.catch((err) => this.deps.log.warn({ error: String(err.error).split(this.deps.token).join('***') }, 'telegram update failed'));
      this.bot = bot;
      void bot.start({ allowed_updates: ['message'], drop_pending_updates: false }).catch(async (err: unknown) => {
        this.deps.log.warn({ error: String((err as Error).message ?? err).split(this.deps.token).join('***') }, 'telegram polling stopped');
        await this.release();
        this.retryLater();
      });
    } catch (err) {
      this.deps.log.warn({ error: String((err as Error).message).split(this.deps.token).join('***') }, 'telegram poller start failed');
      await this.release();
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tryStart(), 10_000);
    this.timer.unref();
  }

  private async release(): Promise<void> {
    const bot = this.bot;
    this.bot = undefined;
    if (bot?.isRunning()) await bot.stop().catch(() => {});
    const c = this.lockClient;
    this.lockClient = undefined;
    if (c) { await c.query('SELECT pg_advisory_unlock($1)', [POLL_LOCK]).catch(() => {}); c.release(); }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.release();
  }
}
