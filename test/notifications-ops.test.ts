/**
 * Authors' digests of refused webhook posts and operators' alerts, through the real app (role notifier)
 * to a verifying webhook receiver. Alert checks are driven with explicit thresholds so the shared test
 * database's other traffic cannot trip or clear them by chance.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type pg from 'pg';
import type { App } from '../src/app.js';
import { AlertMonitor } from '../src/notifications/alerts.js';
import { writeDigests } from '../src/notifications/digest.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { finishedRows, seedSignal, waitUntil, WebhookReceiver } from './support/notify-kit.js';

const NEVER = { executorLagSeconds: 1e9, failureRate: 2, errorBurst: 1e9, priceFeedLagSeconds: 1e9, windowMinutes: 1440 };

describe('notifications for authors and operators', function () {
  this.timeout(60_000);
  const hooks = new WebhookReceiver();
  let app: App;

  before(async () => {
    await hooks.start();
    app = await startTestApp({ ROLES: 'api,store,notifier', NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100', NOTIFY_ALERT_INTERVAL_MS: '3600000', WEBHOOK_BAD_SECRET_RATE_LIMIT_PER_MINUTE: '1000' });
  });
  after(async () => { await app?.stop(); await hooks.stop(); });

  async function withWebhook(token: string, userId: string) {
    const r = await client(app).post('/api/notifications/webhook', { url: `${hooks.url}/hook/${userId}` }, token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    hooks.secrets.set(userId, r.body.secret);
  }

  it('25 webhook posts with a wrong secret become ONE digest for the author when the period ends, not 25 messages', async () => {
    const { author, strategyId } = await seedStrategy(app);
    await withWebhook(author.token, author.user.id);
    for (let i = 0; i < 25; i++) {
      const r = await client(app).post(`/api/webhooks/tradingview/${strategyId}`, { secret: 'not-the-secret', ticker: 'BTCUSDT', action: 'buy', price: 1 });
      assert.equal(r.status, 401);
    }
    await waitUntil('counted', async () => (await app.db.pool.query<{ n: number }>(`SELECT COALESCE(sum(count), 0)::int AS n FROM "NotificationRefusalCount" WHERE "strategyId" = $1`, [strategyId])).rows[0]!.n === 25);
    assert.equal(hooks.for(author.user.id).length, 0, 'nothing sent while the period runs');
    // The period ends (moved back in time instead of waiting an hour).
    await app.db.pool.query(`UPDATE "NotificationRefusalCount" SET "periodStart" = "periodStart" - interval '2 hours' WHERE "strategyId" = $1`, [strategyId]);
    await writeDigests(app.db.pool, app.config.notify.digestMs);
    await hooks.waitFor(() => hooks.for(author.user.id).length >= 1, 'the digest');
    const [digest] = hooks.for(author.user.id);
    assert.equal(digest!.json.type, 'author.refused_digest');
    assert.deepEqual(digest!.json.data.counts, { 'wrong secret': 25 });
    assert.match(digest!.eventId, new RegExp(`^digest:${strategyId}:`));
    assert.equal(await writeDigests(app.db.pool, app.config.notify.digestMs), 0, 'the counted rows are gone: no second digest');
  });

  it('an error burst raises one operator alert with its figure, then one clear; checks in between send nothing', async () => {
    await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: NEVER }).check(); // a known, cleared state
    const admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    const login = await client(app).post('/api/auth/login', { email: admin.user.email, password: 'correct horse battery' });
    const adminToken = login.body.token as string;
    await withWebhook(adminToken, admin.user.id);
    const base = (await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: NEVER }).check()).find((r) => r.key === 'error_burst')!.value;
    const burst = new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: { ...NEVER, errorBurst: base + 5 } });
    const victim = await registerUser(app);
    await finishedRows(app, await seedSignal(app), victim.user.id, Array.from({ length: 50 }, () => ({ status: 'FAILED', error: 'EXCHANGE_DOWN' })));
    await burst.check();
    await hooks.waitFor(() => hooks.for(admin.user.id).some((r) => r.json.data.key === 'error_burst'), 'the alert');
    const raised = hooks.for(admin.user.id).find((r) => r.json.data.key === 'error_burst')!;
    assert.equal(raised.json.data.state, 'raised');
    assert.ok(raised.json.data.value >= base + 5, `figure ${raised.json.data.value}`);
    assert.match(raised.json.data.message, /failed orders in 1440 min \(threshold \d+\)/);
    await burst.check();
    await burst.check();
    await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: NEVER }).check();
    await hooks.waitFor(() => hooks.for(admin.user.id).some((r) => r.json.data.key === 'error_burst' && r.json.data.state === 'cleared'), 'the clear');
    await waitUntil('all sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: admin.user.id, status: { not: 'sent' } } })) === 0);
    assert.deepEqual(hooks.for(admin.user.id).filter((r) => r.json.data.key === 'error_burst').map((r) => r.json.data.state).sort(), ['cleared', 'raised']);
    const state = await client(app).get('/api/admin/alerts', adminToken);
    assert.equal(state.status, 200);
    assert.equal(state.body.alerts.find((a: any) => a.key === 'error_burst').active, false);
    assert.equal((await client(app).get('/api/admin/alerts', victim.token)).status, 403);
  });

  it('a failure-rate alert names the most affected account by masked email only', async () => {
    const admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    const adminToken = (await client(app).post('/api/auth/login', { email: admin.user.email, password: 'correct horse battery' })).body.token as string;
    await withWebhook(adminToken, admin.user.id);
    await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: NEVER }).check();
    const victim = await registerUser(app);
    await finishedRows(app, await seedSignal(app), victim.user.id, Array.from({ length: 3 }, () => ({ status: 'FAILED', error: 'EXCHANGE_DOWN' })));
    await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: { ...NEVER, failureRate: 0.0001, minOrders: 1, windowMinutes: 5 } }).check();
    await hooks.waitFor(() => hooks.for(admin.user.id).some((r) => r.json.data.key === 'failure_rate:binance'), 'the failure-rate alert');
    const msg = hooks.for(admin.user.id).find((r) => r.json.data.key === 'failure_rate:binance')!.json.data.message as string;
    assert.match(msg, /most affected account [^\s@]\*\*\*@/);
    assert.ok(!/[A-Za-z0-9._-]{2,}@/.test(msg), `an unmasked email in "${msg}"`);
    await new AlertMonitor({ pool: app.db.pool, bus: app.bus, log: app.log, thresholds: NEVER }).check();
  });

  it('PostgreSQL unreachable for a while: once it answers, one raised and one cleared alert with the duration', async () => {
    const admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    const adminToken = (await client(app).post('/api/auth/login', { email: admin.user.email, password: 'correct horse battery' })).body.token as string;
    await withWebhook(adminToken, admin.user.id);
    let down = true;
    const real = app.db.pool;
    const flaky = {
      query: (...a: unknown[]) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : (real.query as (...x: unknown[]) => Promise<unknown>)(...a)),
      connect: () => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : real.connect()),
    } as unknown as pg.Pool;
    const m = new AlertMonitor({ pool: flaky, bus: app.bus, log: app.log, thresholds: NEVER });
    assert.deepEqual(await m.check(), []);
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await m.check(), []);
    down = false;
    await m.check();
    await m.check();
    await hooks.waitFor(() => hooks.for(admin.user.id).filter((r) => r.json.data.key === 'postgres').length >= 2, 'raised and cleared');
    await waitUntil('all sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: admin.user.id, status: { not: 'sent' } } })) === 0);
    const pg2 = hooks.for(admin.user.id).filter((r) => r.json.data.key === 'postgres');
    assert.deepEqual(pg2.map((r) => r.json.data.state).sort(), ['cleared', 'raised']);
    assert.ok(pg2.find((r) => r.json.data.state === 'cleared')!.json.data.value >= 1);
  });
});

describe('notifications: dead deliveries', function () {
  this.timeout(60_000);
  const hooks = new WebhookReceiver();
  before(async () => { await hooks.start(); });
  after(async () => { await hooks.stop(); });

  it('a webhook target that resolves to a private address at delivery time is never contacted: the delivery is dead at once', async () => {
    const app = await startTestApp({ ROLES: 'api,store,notifier', NOTIFY_POLL_MS: '100' }); // private targets refused
    let contacted = 0;
    const probe = http.createServer((_req, res) => { contacted++; res.end('ok'); });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    try {
      const u = await registerUser(app);
      const url = `http://127.0.0.1:${(probe.address() as { port: number }).port}/h`;
      assert.equal((await client(app).post('/api/notifications/webhook', { url }, u.token)).body.error.code, 'WEBHOOK_URL_REFUSED');
      // Stored as if saved while its name still resolved to a public address.
      await app.db.prisma.notificationSettings.create({ data: { userId: u.user.id, webhookUrl: url, webhookSecretEnc: app.keyring.encrypt('whsec_x') } });
      await finishedRows(app, await seedSignal(app), u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN' }]);
      const row = await waitUntil('dead', async () => app.db.prisma.notificationOutbox.findFirst({ where: { userId: u.user.id, status: 'dead' } }));
      assert.equal(row.attempts, 1);
      assert.match(row.lastError ?? '', /private, loopback or link-local/);
      assert.equal(contacted, 0);
    } finally { probe.close(); await app.stop(); }
  });

  it('a webhook still failing after NOTIFY_MAX_AGE_HOURS is marked dead and shown as dead in the delivery log', async () => {
    // 0.0005 h = 1.8 s instead of 24 h.
    const app = await startTestApp({ ROLES: 'api,store,notifier', NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100', NOTIFY_RETRY_BASE_MS: '100', NOTIFY_RETRY_MAX_MS: '300', NOTIFY_MAX_AGE_HOURS: '0.0005' });
    hooks.status = 503;
    try {
      const u = await registerUser(app);
      const r = await client(app).post('/api/notifications/webhook', { url: `${hooks.url}/hook/${u.user.id}` }, u.token);
      hooks.secrets.set(u.user.id, r.body.secret);
      await finishedRows(app, await seedSignal(app), u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN' }]);
      const row = await waitUntil('dead', async () => app.db.prisma.notificationOutbox.findFirst({ where: { userId: u.user.id, status: 'dead' } }));
      assert.ok(row.attempts >= 3, `${row.attempts} attempts`);
      assert.equal(row.lastError, 'HTTP 503');
      const log = await client(app).get('/api/notifications/deliveries', u.token);
      assert.equal(log.body.deliveries[0].status, 'dead');
    } finally { hooks.status = 200; await app.stop(); }
  });
});
