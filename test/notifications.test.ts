/**
 * Notifications with real parts: the app's notifier (role notifier) delivers to a local Telegram Bot
 * API server through grammY, to a real SMTP server (smtp-server, mails parsed by mailparser) through
 * nodemailer, and to a webhook receiver that verifies the signature. Finished executions are written
 * with SQL as the executor's finish statement writes them.
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { TOPICS } from '../src/bus/index.js';
import { resolveTarget } from '../src/notifications/index.js';
import { client, registerUser, startTestApp } from './support/app.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { finishedRows, MailSink, seedSignal, verifySignature, waitUntil, WebhookReceiver } from './support/notify-kit.js';

/** PUT /api/notifications/settings (the test client has no put). */
async function putSettings(app: App, token: string, body: unknown) {
  const res = await fetch(`${app.url}/api/notifications/settings`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}

const ALL = ['order.filled', 'order.partial', 'order.failed', 'order.skipped', 'keys.refused', 'loss_limit.reached'];

describe('notifications: Telegram, email and signed webhooks', function () {
  this.timeout(60_000);
  const tg = new FakeTelegram();
  const hooks = new WebhookReceiver();
  const mail = new MailSink();
  let app: App;
  let chatSeq = 7_000_000 + Math.floor(Math.random() * 1_000_000);

  before(async () => {
    const [apiRoot, hookUrl, smtpUrl] = await Promise.all([tg.start(), hooks.start(), mail.start()]);
    void hookUrl;
    app = await startTestApp({
      ROLES: 'api,store,notifier', TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: apiRoot, SMTP_URL: smtpUrl,
      NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100', NOTIFY_RETRY_BASE_MS: '200', NOTIFY_RETRY_MAX_MS: '600',
      NOTIFY_TELEGRAM_CHAT_INTERVAL_MS: '1000', NOTIFY_LEASE_MS: '5000',
    });
  });
  after(async () => { await app?.stop(); await Promise.all([tg.stop(), hooks.stop(), mail.stop()]); });

  /** A user with the channels asked for linked (Telegram through the real /start deep-link flow). */
  async function linkedUser(opts: { telegram?: boolean; email?: boolean; webhook?: boolean; events?: string[] } = {}) {
    const u = await registerUser(app);
    const api = client(app);
    const chatId = String(++chatSeq);
    let secret = '';
    if (opts.webhook) {
      const r = await api.post('/api/notifications/webhook', { url: `${hooks.url}/hook/${u.user.id}` }, u.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      secret = r.body.secret;
      hooks.secrets.set(u.user.id, secret);
    }
    if (opts.telegram) {
      const r = await api.post('/api/notifications/telegram/link', undefined, u.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.match(r.body.url, new RegExp(`^https://t\\.me/${tg.username}\\?start=[A-Za-z0-9_-]+$`));
      tg.userSends(Number(chatId), r.body.command);
      await tg.waitForMessage(chatId, (m) => m.text.includes('linked'));
    }
    const events = opts.events ? { telegram: opts.events, email: opts.events, webhook: opts.events } : undefined;
    const put = await putSettings(app, u.token, { emailEnabled: !!opts.email, ...(events ? { events } : {}) });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    return { ...u, chatId, secret };
  }

  it('each event (filled, partial, failed, skipped with its reason, keys refused, daily loss limit) reaches Telegram, email and the signed webhook, once each', async () => {
    const u = await linkedUser({ telegram: true, email: true, webhook: true, events: ALL });
    const sig = await seedSignal(app);
    const ids = await finishedRows(app, sig, u.user.id, [
      { status: 'SUCCESS' }, { status: 'PARTIAL', error: 'PARTIAL_FILL: 0.4 of 0.5 filled' }, { status: 'FAILED', error: 'INSUFFICIENT_FUNDS: balance 3 USDT' },
      { status: 'SKIPPED', error: 'PRICE_MOVED: venue 130 is 30% from 100' }, { status: 'FAILED', error: 'KEYS_INVALID: binance refused the key' },
      { status: 'SKIPPED', error: 'DAILY_LOSS_LIMIT: realised loss today 60.00 reached the limit 50' },
    ]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 6, 'six webhooks');
    const got = hooks.for(u.user.id);
    assert.deepEqual(got.map((r) => r.json.type).sort(), [...ALL].sort());
    assert.ok(got.every((r) => r.verified && r.json.id === r.eventId));
    assert.ok(got.some((r) => r.eventId === `exec:${ids[0]}:SUCCESS`));
    assert.equal(got.find((r) => r.json.type === 'order.skipped')!.json.data.reason, 'PRICE_MOVED: venue 130 is 30% from 100');
    await waitUntil('six mails', () => mail.to(u.user.email).length >= 6);
    const subjects = mail.to(u.user.email).map((m) => m.subject ?? '');
    for (const t of ['Order filled', 'Order partly done', 'Order failed', 'Order skipped', 'API keys refused', 'Daily loss limit reached']) {
      assert.ok(subjects.some((s) => s.includes(t)), `mail "${t}" in ${subjects.join(' | ')}`);
    }
    assert.ok(mail.to(u.user.email).every((m) => /^(exec|keys|dll):/.test(String(m.headers.get('x-signal-marketplace-event-id')))));
    const text = async () => tg.sent.filter((m) => m.chatId === u.chatId).map((m) => m.text).join('\n');
    await waitUntil('all six on Telegram', async () => ['Order filled', 'Order partly done', 'Order failed', 'Order skipped', 'API keys refused', 'Daily loss limit reached'].every((t) => text().then((x) => x.includes(t))) && (await text()).includes('Daily loss'));
    for (const t of ['Order filled', 'Order partly done', 'Order failed', 'Order skipped', 'API keys refused', 'Daily loss limit reached']) assert.ok((await text()).includes(t), t);
    assert.ok(tg.sent.every((m) => m.parseMode === undefined), 'plain text: no markup to escape');
    const log = await client(app).get('/api/notifications/deliveries', u.token);
    await waitUntil('18 sent rows', async () => (await client(app).get('/api/notifications/deliveries', u.token)).body.deliveries.filter((d: any) => d.status === 'sent').length === 18);
    assert.equal(log.status, 200);

    // A second loss-limit skip of the same subscription the same UTC day is not a new event (next signal,
    // same subscription); a later failure, committed after it, proves derivation went on.
    const dllSub = (await app.db.prisma.executionLog.findUniqueOrThrow({ where: { id: ids[5]! } })).subscriptionId;
    const sig2 = await seedSignal(app);
    await app.db.pool.query(
      `INSERT INTO "ExecutionLog" (id, "userId", "subscriptionId", "signalId", exchange, "clientOrderId", status, error, pair, "executedAt")
       VALUES (gen_random_uuid(), $1, $2, $3, 'binance', 'n' || replace(gen_random_uuid()::text, '-', ''), 'SKIPPED', 'DAILY_LOSS_LIMIT: realised loss today 70.00 reached the limit 50', $4, now())`,
      [u.user.id, dllSub, sig2.signalId, sig2.pair]);
    const [marker] = await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN: 502' }]);
    await hooks.waitFor(() => hooks.for(u.user.id).some((r) => r.eventId === `exec:${marker}:FAILED`), 'the marker failure');
    // The marker was derived in the same or a later step than the second skip (commit and executedAt order): its outbox row would exist.
    assert.equal(await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, channel: 'webhook', kind: 'loss_limit.reached' } }), 1);
    assert.equal(hooks.for(u.user.id).filter((r) => r.json.type === 'loss_limit.reached').length, 1);
  });

  it('a stop loss hit by the trade monitor: the subscriber learns the position was closed, by default, on the webhook and on Telegram', async () => {
    const u = await linkedUser({ telegram: true, webhook: true });
    const sig = await seedSignal(app);
    const close = await app.coordinator.accept({ strategyId: sig.strategyId, pair: sig.pair, action: 'CLOSE', direction: 'LONG', price: 90, reason: 'STOP_LOSS' } as never, 'monitor');
    const [id] = await finishedRows(app, { ...sig, signalId: close.signal.id }, u.user.id, [{ status: 'SUCCESS', action: 'CLOSE', pnl: -5 }]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 1, 'the close');
    const [r] = hooks.for(u.user.id);
    assert.equal(r!.json.type, 'position.closed');
    assert.equal(r!.eventId, `exec:${id}:SUCCESS`);
    assert.equal(r!.json.data.closeReason, 'STOP_LOSS');
    const m = await tg.waitForMessage(u.chatId, (x) => x.text.startsWith('Position closed'));
    assert.match(m.text, /Closed by the stop loss, realised -5/);
  });

  it('defaults: a failure reaches a newly linked webhook, a fill does not', async () => {
    const u = await linkedUser({ webhook: true });
    const settings = await client(app).get('/api/notifications/settings', u.token);
    assert.deepEqual(settings.body.events.webhook.includes('order.filled'), false);
    assert.deepEqual(settings.body.events.webhook.includes('order.failed'), true);
    const sig = await seedSignal(app);
    await finishedRows(app, sig, u.user.id, [{ status: 'SUCCESS' }]);
    const [failed] = await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN' }]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 1, 'the failure');
    const outbox = await app.db.prisma.notificationOutbox.findMany({ where: { userId: u.user.id } });
    assert.deepEqual(outbox.map((o) => o.eventId), [`exec:${failed}:FAILED`]);
  });

  it('a webhook endpoint down for a while, then up, gets every event exactly once (retried with back-off)', async () => {
    const u = await linkedUser({ webhook: true });
    const sig = await seedSignal(app);
    hooks.status = 503;
    try {
      await finishedRows(app, sig, u.user.id, Array.from({ length: 5 }, (_, i) => ({ status: 'FAILED', error: `EXCHANGE_DOWN: try ${i}` })));
      await waitUntil('retrying rows', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: 'retrying', attempts: { gte: 2 } } })) === 5);
      const log = await client(app).get('/api/notifications/deliveries', u.token);
      assert.ok(log.body.deliveries.every((d: any) => d.status === 'retrying' && d.lastError === 'HTTP 503'));
    } finally { hooks.status = 200; }
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 5, 'five deliveries');
    await waitUntil('all sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: 'sent' } })) === 5);
    const ids = hooks.for(u.user.id).map((r) => r.eventId);
    assert.equal(new Set(ids).size, 5);
    assert.equal(ids.length, 5);
  });

  it('Telegram down (502) for a while, then up: the queued events arrive once, batched into one message', async () => {
    const u = await linkedUser({ telegram: true });
    const sig = await seedSignal(app);
    tg.down = true;
    try {
      await finishedRows(app, sig, u.user.id, Array.from({ length: 4 }, () => ({ status: 'FAILED', error: 'EXCHANGE_DOWN' })));
      await waitUntil('telegram retrying', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: 'retrying' } })) === 4);
    } finally { tg.down = false; }
    const m = await tg.waitForMessage(u.chatId, (x) => x.text.startsWith('4 notifications'));
    assert.match(m.text, /4 × Order failed/);
    await waitUntil('all sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: 'sent' } })) === 4);
    assert.equal(tg.sent.filter((x) => x.chatId === u.chatId && !x.text.includes('linked')).length, 1);
  });

  it('a flood of 1,000 failed orders becomes a few batched Telegram messages, never more than 1 per second to the chat', async () => {
    const u = await linkedUser({ telegram: true });
    const sig = await seedSignal(app);
    await finishedRows(app, sig, u.user.id, Array.from({ length: 1000 }, (_, i) => ({ status: 'FAILED', error: `INSUFFICIENT_FUNDS: order ${i}` })));
    const count = (t: string) => (/^(\d+) notifications/.exec(t) ? Number(/^(\d+) notifications/.exec(t)![1]) : 1);
    const mine = () => tg.sent.filter((x) => x.chatId === u.chatId && !x.text.includes('linked'));
    await waitUntil('1000 events on Telegram', () => mine().reduce((a, m) => a + count(m.text), 0) >= 1000, 30_000);
    assert.equal(mine().reduce((a, m) => a + count(m.text), 0), 1000);
    assert.ok(mine().length <= 6, `${mine().length} messages`);
    assert.equal(tg.maxPerSecond(u.chatId, (m) => !m.text.includes('linked')), 1, `${mine().map((m) => m.at).join(', ')}`);
    assert.ok(mine().every((m) => m.text.length <= 4096));
    assert.match(mine().at(-1)!.text, /and \d+ more/);
  });

  it('a 429 from Telegram is honoured: the message goes after retry_after, once', async () => {
    const u = await linkedUser({ telegram: true });
    const sig = await seedSignal(app);
    tg.retryAfter = 1; tg.tooManyLeft = 1;
    const t0 = Date.now();
    await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN' }]);
    const m = await tg.waitForMessage(u.chatId, (x) => x.text.includes('Order failed'));
    assert.ok(m.at - t0 >= 1000, `sent after ${m.at - t0} ms`);
    assert.equal(tg.tooManyLeft, 0);
  });

  it('no secrets in messages: API keys, signatures and the webhook secret in an exchange error are masked on every channel', async () => {
    const u = await linkedUser({ telegram: true, email: true, webhook: true });
    const sig = await seedSignal(app);
    const apiKey = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
    const error = `EXCHANGE_ERROR: binance GET https://api.binance.com/api/v3/order?apiKey=${apiKey}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b ${u.secret} token: abcd1234`;
    await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error }]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 1, 'the webhook');
    await waitUntil('mail', () => mail.to(u.user.email).length >= 1);
    const m = await tg.waitForMessage(u.chatId, (x) => x.text.includes('Order failed'));
    const texts = [hooks.for(u.user.id)[0]!.body, mail.to(u.user.email)[0]!.text ?? '', m.text];
    for (const t of texts) {
      assert.ok(t.includes('EXCHANGE_ERROR'), 'the reason is still there');
      for (const secret of [apiKey, 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b', u.secret, 'abcd1234', tg.token]) assert.ok(!t.includes(secret), `"${secret.slice(0, 8)}…" leaked`);
    }
    const settings = await client(app).get('/api/notifications/settings', u.token);
    assert.ok(!JSON.stringify(settings.body).includes(u.secret), 'the webhook secret is shown once only');
  });

  it('a receiver refuses a replayed delivery (timestamp older than 5 minutes) and a tampered body', async () => {
    const u = await linkedUser({ webhook: true });
    const sig = await seedSignal(app);
    await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN' }]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 1, 'the webhook');
    const r = hooks.for(u.user.id)[0]!;
    assert.equal(verifySignature(u.secret, r.signature, r.body), true);
    assert.equal(verifySignature(u.secret, r.signature, r.body, Date.now() / 1000 + 301), false, 'replayed 5 minutes later');
    assert.equal(verifySignature(u.secret, r.signature, r.body.replace('EXCHANGE_DOWN', 'EXCHANGE_UP')), false, 'tampered');
    assert.equal(verifySignature('whsec_wrong', r.signature, r.body), false, 'another secret');
    const replay = await fetch(`${hooks.url}/hook/${u.user.id}`, { method: 'POST', body: r.body, headers: { 'x-signal-marketplace-signature': r.signature.replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) - 600}`) } });
    assert.equal(replay.status, 401);
  });

  it('the bot: /start links once (a used or unknown token is refused), /status lists, /pause and /resume change the subscriptions and publish subscription.changed', async () => {
    const u = await linkedUser({ telegram: true });
    const sig = await seedSignal(app);
    const sub = await client(app).post('/api/subscriptions', { strategyId: sig.strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 10 } }, u.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const changes: any[] = [];
    const off = app.bus.subscribe(TOPICS.subscriptionChanged, (m) => { changes.push(m); });
    try {
      const chat = Number(u.chatId);
      tg.userSends(chat, '/status');
      await tg.waitForMessage(u.chatId, (m) => m.text.includes(`${sig.strategyName}: active`));
      tg.userSends(chat, '/pause');
      await tg.waitForMessage(u.chatId, (m) => m.text === 'Paused 1 subscription.');
      assert.equal((await client(app).get('/api/subscriptions', u.token)).body.subscriptions[0].status, 'PAUSED');
      await waitUntil('subscription.changed PAUSED', () => changes.some((c) => c.subscriptionId === sub.body.id && c.status === 'PAUSED'));
      tg.userSends(chat, '/resume');
      await tg.waitForMessage(u.chatId, (m) => m.text === 'Resumed 1 subscription.');
      assert.equal((await client(app).get('/api/subscriptions', u.token)).body.subscriptions[0].status, 'ACTIVE');
      await waitUntil('subscription.changed ACTIVE', () => changes.some((c) => c.subscriptionId === sub.body.id && c.status === 'ACTIVE'));
    } finally { off(); }
    // A stranger replaying someone's used link token, and a made-up token, link nothing.
    const other = await registerUser(app);
    const link = await client(app).post('/api/notifications/telegram/link', undefined, other.token);
    const strangerChat = ++chatSeq;
    tg.userSends(strangerChat - 0, link.body.command);
    await tg.waitForMessage(String(strangerChat), (m) => m.text.includes('linked'));
    const thief = ++chatSeq;
    tg.userSends(thief, link.body.command);
    await tg.waitForMessage(String(thief), (m) => m.text.includes('invalid, used or expired'));
    tg.userSends(thief, '/pause');
    await tg.waitForMessage(String(thief), (m) => m.text.includes('not linked'));
  });

  it('a second notifier with the same bot does not poll Telegram too: each command is answered once', async () => {
    const second = await startTestApp({ ROLES: 'notifier', TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: app.config.notify.telegramApiRoot, NOTIFY_POLL_MS: '100' });
    try {
      const u = await linkedUser({ telegram: true });
      const before = tg.calls.length;
      for (let i = 0; i < 3; i++) {
        tg.userSends(Number(u.chatId), '/status');
        await tg.waitForMessage(u.chatId, (m) => m.text.startsWith('You have no') && tg.sent.filter((x) => x.chatId === u.chatId && x.text.startsWith('You have no')).length > i);
      }
      await new Promise((r) => setTimeout(r, 1500)); // a second poller would have answered within its next getUpdates (≤ 1 s here)
      assert.equal(tg.sent.filter((x) => x.chatId === u.chatId && x.text.startsWith('You have no')).length, 3);
      assert.ok(tg.calls.length > before, 'the first notifier kept polling meanwhile');
    } finally { await second.stop(); }
  });

  it('REST: bad input is a 4xx with a code, settings persist, unlinking stops a channel', async () => {
    const u = await linkedUser({ webhook: true });
    const api = client(app);
    assert.equal((await putSettings(app, u.token, { events: { webhook: ['order.exploded'] } })).status, 400);
    assert.equal((await putSettings(app, u.token, { bogus: true })).status, 400);
    assert.equal((await api.get('/api/notifications/deliveries?limit=x', u.token)).status, 400);
    assert.equal((await api.post('/api/notifications/webhook', { url: 'ftp://example.com/x' }, u.token)).body.error.code, 'WEBHOOK_URL_REFUSED');
    const put = await putSettings(app, u.token, { events: { webhook: ['order.filled'] } });
    assert.deepEqual(put.body.events.webhook, ['order.filled']);
    assert.equal((await api.get('/api/notifications/settings')).status, 401);
    const del = await api.del('/api/notifications/webhook', u.token);
    assert.equal(del.body.channels.webhook.configured, false);
    const page = await api.get('/notifications');
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<script type="module" src="\/assets\/notifications.js">/);
    assert.equal((await api.get('/assets/notifications.js')).status, 200);
  });

  it('metrics: notifications_sent_total{channel,event}, notifications_failed_total{channel}, notification_delivery_seconds', async () => {
    const text = await app.metrics.registry.metrics();
    assert.match(text, /notifications_sent_total\{channel="webhook",event="order.failed"\} \d+/);
    assert.match(text, /notifications_failed_total\{channel="webhook"\} \d+/);
    assert.match(text, /notification_delivery_seconds_count\{channel="telegram"\} \d+/);
  });
});

describe('notifications: SSRF guard for webhook targets (production policy)', function () {
  this.timeout(20_000);
  const production = { production: true, allowPrivate: false };
  for (const url of ['https://127.0.0.1/hook', 'https://10.1.2.3/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/hook', 'https://localhost/hook', 'https://[::ffff:127.0.0.1]/x', 'https://100.64.0.1/x', 'https://[fd00::1]/x']) {
    it(`refuses ${url}`, async () => {
      await assert.rejects(resolveTarget(url, production), (err: any) => err.code === 'WEBHOOK_URL_REFUSED' && err.status === 400);
    });
  }
  it('refuses plain http in production, accepts https to a public address and pins that address', async () => {
    await assert.rejects(resolveTarget('http://93.184.215.14/x', production), /https/);
    const t = await resolveTarget('https://93.184.215.14/x', production);
    assert.equal(t.address, '93.184.215.14');
  });
  it('a production app answers POST /api/notifications/webhook with 400 WEBHOOK_URL_REFUSED for 127.0.0.1, 10.x, 169.254.169.254, ::1 and localhost', async () => {
    const app = await startTestApp({ NODE_ENV: 'production', ROLES: 'api' });
    try {
      const u = await registerUser(app);
      for (const url of ['https://127.0.0.1/h', 'https://10.0.0.8/h', 'https://169.254.169.254/h', 'https://[::1]/h', 'https://localhost/h']) {
        const r = await client(app).post('/api/notifications/webhook', { url }, u.token);
        assert.equal(r.status, 400, url);
        assert.equal(r.body.error.code, 'WEBHOOK_URL_REFUSED', url);
      }
    } finally { await app.stop(); }
  });
});
