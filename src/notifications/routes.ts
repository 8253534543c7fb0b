/**
 * REST for notifications (the calling user's own settings only):
 *   GET/PUT /api/notifications/settings      which events go to which channel; email on/off
 *   POST    /api/notifications/telegram/link a one-time deep link (https://t.me/<bot>?start=<token>, 15 min)
 *   DELETE  /api/notifications/telegram      unlinks the chat
 *   POST    /api/notifications/webhook       { url } → { url, secret } (the secret is shown this once)
 *   DELETE  /api/notifications/webhook
 *   GET     /api/notifications/deliveries    the user's delivery log (queued, retrying, sent, dead)
 *   GET     /api/admin/alerts                operator alert states (admin)
 *   GET     /notifications                   the settings page (public/site/notifications.html)
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { Api } from 'grammy';
import type { PrismaClient } from '@prisma/client';
import { requireAuth, currentUser, type TokenService } from '../http/auth.js';
import { parseBody } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { wrap } from '../http/wrap.js';
import type { Keyring } from '../lib/crypto.js';
import { AppError } from '../lib/errors.js';
import { SITE_DIR } from '../marketplace/index.js';
import { hashLinkToken } from './bot.js';
import { newWebhookSecret } from './channels/webhook.js';
import { CHANNELS, DEFAULT_EVENTS, EVENT_KINDS, eventsFor, titleOf } from './events.js';
import { resolveTarget, type TargetPolicy } from './ssrf.js';

const LINK_TTL_MS = 15 * 60_000;
const kinds = z.array(z.enum(EVENT_KINDS)).max(EVENT_KINDS.length);
const settingsSchema = z.object({
  events: z.object({ telegram: kinds.optional(), email: kinds.optional(), webhook: kinds.optional() }).strict().optional(),
  emailEnabled: z.boolean().optional(),
}).strict();
const webhookSchema = z.object({ url: z.string().trim().min(1).max(2000) }).strict();

export interface RouteDeps {
  prisma: PrismaClient; tokens: TokenService; keyring: Keyring; policy: TargetPolicy; emailConfigured: boolean;
  /** Bot API client when TELEGRAM_BOT_TOKEN is set (for the bot's username in deep links). */
  telegram?: Api;
}

export function notificationRoutes(deps: RouteDeps): Router {
  const r = Router();
  const { prisma, keyring } = deps;
  const auth = requireAuth(deps.tokens);
  let botName: Promise<string> | undefined;
  const botUsername = () => (botName ??= deps.telegram!.getMe().then((me) => me.username).catch((err: unknown) => { botName = undefined; throw err; }));

  async function view(userId: string) {
    const [user, s] = await Promise.all([
      prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { email: true } }),
      prisma.notificationSettings.findUnique({ where: { userId } }),
    ]);
    return {
      channels: {
        telegram: { available: !!deps.telegram, linked: !!s?.telegramChatId },
        email: { available: deps.emailConfigured, enabled: !!s?.emailEnabled, address: user.email },
        webhook: { url: s?.webhookUrl ?? null, configured: !!s?.webhookUrl },
      },
      events: Object.fromEntries(CHANNELS.map((c) => [c, [...eventsFor(s?.events, c)]])),
      kinds: EVENT_KINDS.map((k) => ({ kind: k, title: titleOf(k, {}), default: DEFAULT_EVENTS.includes(k) })),
    };
  }

  // The settings page (its script is served from /assets like every page's).
  r.get('/notifications', (_req, res) => { res.sendFile('notifications.html', { root: SITE_DIR, maxAge: 0, headers: { 'Cache-Control': 'no-cache' } }); });

  r.get('/api/notifications/settings', auth, wrap(async (req, res) => { res.json(await view(currentUser(req).id)); }));

  r.put('/api/notifications/settings', auth, wrap(async (req, res) => {
    const userId = currentUser(req).id;
    const b = parseBody(settingsSchema, req.body);
    if (b.emailEnabled && !deps.emailConfigured) throw new AppError('EMAIL_NOT_CONFIGURED', 'this server has no SMTP_URL: email notifications are unavailable', 409);
    const current = await prisma.notificationSettings.findUnique({ where: { userId } });
    const events = { ...Object.fromEntries(CHANNELS.map((c) => [c, [...eventsFor(current?.events, c)]])), ...(b.events ?? {}) };
    await prisma.notificationSettings.upsert({
      where: { userId }, create: { userId, events, emailEnabled: b.emailEnabled ?? false },
      update: { events, emailEnabled: b.emailEnabled, updatedAt: new Date() },
    });
    res.json(await view(userId));
  }));

  r.post('/api/notifications/telegram/link', auth, wrap(async (req, res) => {
    if (!deps.telegram) throw new AppError('TELEGRAM_NOT_CONFIGURED', 'this server has no TELEGRAM_BOT_TOKEN: Telegram notifications are unavailable', 409);
    const userId = currentUser(req).id;
    let username: string;
    try { username = await botUsername(); } catch { throw new AppError('TELEGRAM_UNAVAILABLE', 'the Telegram bot did not answer; try again later', 503); }
    const token = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + LINK_TTL_MS);
    await prisma.telegramLinkToken.deleteMany({ where: { userId, OR: [{ usedAt: { not: null } }, { expiresAt: { lt: new Date() } }] } });
    await prisma.telegramLinkToken.create({ data: { tokenHash: hashLinkToken(token), userId, expiresAt } });
    res.status(201).json({ url: `https://t.me/${username}?start=${token}`, command: `/start ${token}`, expiresAt });
  }));

  r.delete('/api/notifications/telegram', auth, wrap(async (req, res) => {
    await prisma.notificationSettings.updateMany({ where: { userId: currentUser(req).id }, data: { telegramChatId: null, updatedAt: new Date() } });
    res.json(await view(currentUser(req).id));
  }));

  r.post('/api/notifications/webhook', auth, wrap(async (req, res) => {
    const userId = currentUser(req).id;
    const b = parseBody(webhookSchema, req.body);
    const { url } = await resolveTarget(b.url, deps.policy);
    const secret = newWebhookSecret();
    const data = { webhookUrl: url.toString(), webhookSecretEnc: keyring.encrypt(secret), updatedAt: new Date() };
    await prisma.notificationSettings.upsert({ where: { userId }, create: { userId, ...data }, update: data });
    res.status(201).json({ url: data.webhookUrl, secret, note: 'Store this secret now: it is not shown again. Verify X-Signal-Marketplace-Signature with it.' });
  }));

  r.delete('/api/notifications/webhook', auth, wrap(async (req, res) => {
    await prisma.notificationSettings.updateMany({ where: { userId: currentUser(req).id }, data: { webhookUrl: null, webhookSecretEnc: null, updatedAt: new Date() } });
    res.json(await view(currentUser(req).id));
  }));

  r.get('/api/notifications/deliveries', auth, wrap(async (req, res) => {
    const raw = req.query.limit;
    if (raw !== undefined && (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw))) throw new AppError('VALIDATION_FAILED', 'limit: must be an integer 1..500', 400);
    const limit = Math.min(500, Math.max(1, Number(raw ?? 100)));
    const rows = await prisma.notificationOutbox.findMany({ where: { userId: currentUser(req).id }, orderBy: { createdAt: 'desc' }, take: limit });
    res.json({
      deliveries: rows.map((d) => ({
        eventId: d.eventId, channel: d.channel, kind: d.kind, title: titleOf(d.kind, d.payload as Record<string, unknown>),
        status: d.status === 'pending' ? 'queued' : d.status, attempts: d.attempts, lastError: d.lastError,
        createdAt: d.createdAt, sentAt: d.sentAt, nextAttemptAt: d.status === 'retrying' ? d.nextAttemptAt : null,
      })),
    });
  }));

  r.get('/api/admin/alerts', requireAuth(deps.tokens, 'ADMIN'), wrap(async (_req, res) => {
    const rows = await prisma.notificationAlertState.findMany({ orderBy: { key: 'asc' } });
    res.json({ alerts: rows.map((a) => ({ key: a.key, active: a.active, value: a.value, threshold: a.threshold, message: a.message, since: a.since, updatedAt: a.updatedAt })) });
  }));

  return r;
}

describeRoutes([
  { method: 'get', path: '/api/notifications/settings', tag: 'notifications', auth: 'user', summary: 'Your notification channels and the events each one receives', responses: { 200: 'the settings' } },
  { method: 'put', path: '/api/notifications/settings', tag: 'notifications', auth: 'user', summary: 'Change the email address/switch and the events per channel', body: settingsSchema, responses: { 200: 'the settings', 400: 'VALIDATION_FAILED', 409: 'EMAIL_NOT_CONFIGURED' } },
  { method: 'post', path: '/api/notifications/telegram/link', tag: 'notifications', auth: 'user', summary: 'A Telegram deep link (and /start command) that links your chat to this account', responses: { 201: '{ url, command, expiresAt }', 409: 'TELEGRAM_NOT_CONFIGURED', 503: 'TELEGRAM_UNAVAILABLE' } },
  { method: 'delete', path: '/api/notifications/telegram', tag: 'notifications', auth: 'user', summary: 'Unlink Telegram', responses: { 200: 'the settings' } },
  { method: 'post', path: '/api/notifications/webhook', tag: 'notifications', auth: 'user', summary: 'Set your notification webhook URL; the answer carries its signing secret, shown this once', body: webhookSchema, responses: { 201: '{ url, secret, note }', 400: 'VALIDATION_FAILED' } },
  { method: 'delete', path: '/api/notifications/webhook', tag: 'notifications', auth: 'user', summary: 'Remove your notification webhook', responses: { 200: 'the settings' } },
  { method: 'get', path: '/api/notifications/deliveries', tag: 'notifications', auth: 'user', summary: 'Your delivery log, newest first', query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }), responses: { 200: '{ deliveries }', 400: 'VALIDATION_FAILED' } },
  { method: 'get', path: '/api/admin/alerts', tag: 'admin', auth: 'admin', summary: 'Operator alerts: each alert key, whether active, its value and threshold', responses: { 200: '{ alerts }', 403: 'FORBIDDEN' } },
]);
