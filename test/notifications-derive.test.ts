/**
 * Derivation of notifications from finished executions: a row committed late (its executedAt earlier
 * than rows the cursor has already passed) is still notified, once; and the paper executor's own rows
 * (ROLES api,executor,store,notifier, a webhook signal from the author) reach the subscriber's webhook.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { finishedRows, seedSignal, waitUntil, WebhookReceiver } from './support/notify-kit.js';

describe('notification derivation', function () {
  this.timeout(60_000);
  const hooks = new WebhookReceiver();
  const fake = new FakeBinance();
  let app: App;

  before(async () => {
    await hooks.start();
    const origin = await fake.start();
    fake.setPrice('BTC/USDT', 64000.5);
    app = await startTestApp({
      ROLES: 'api,executor,store,notifier', TRADING_MODE: 'paper', EXCHANGE_URL_BINANCE: origin, EXECUTOR_POLL_MS: '200',
      NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100', NOTIFY_RESCAN_SECONDS: '30',
    });
  });
  after(async () => { await app?.stop(); await hooks.stop(); await fake.stop(); });

  async function subscriber(events?: string[]) {
    const u = await registerUser(app);
    const r = await client(app).post('/api/notifications/webhook', { url: `${hooks.url}/hook/${u.user.id}` }, u.token);
    assert.equal(r.status, 201);
    hooks.secrets.set(u.user.id, r.body.secret);
    if (events) {
      const put = await fetch(`${app.url}/api/notifications/settings`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${u.token}` }, body: JSON.stringify({ events: { webhook: events } }) });
      assert.equal(put.status, 200);
    }
    return u;
  }

  it('a finished row committed late, stamped before rows the cursor already passed, is still notified exactly once', async () => {
    const u = await subscriber();
    const sig = await seedSignal(app);
    // The "slow" finish: a transaction stamps executedAt now() - 3 s and stays open.
    const slow = await app.db.pool.connect();
    try {
      await slow.query('BEGIN');
      const [late] = (await slow.query<{ id: string }>(
        `WITH s AS (INSERT INTO "Subscription" (id, "userId", "strategyId", status, exchange, sizing, "updatedAt")
           VALUES (gen_random_uuid(), $1, $2, 'CANCELLED', 'binance', '{"mode":"quote","amount":10}', now()) RETURNING id)
         INSERT INTO "ExecutionLog" (id, "userId", "subscriptionId", "signalId", exchange, "clientOrderId", status, error, pair, "executedAt")
         SELECT gen_random_uuid(), $1, s.id, $3, 'binance', 'late' || replace(gen_random_uuid()::text, '-', ''), 'FAILED', 'EXCHANGE_DOWN: late', $4, now() - interval '3 seconds' FROM s
         RETURNING id`, [u.user.id, sig.strategyId, sig.signalId, sig.pair])).rows;
      // Later rows commit first and are derived: the cursor moves past the late row's timestamp.
      const [early] = await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN: early' }]);
      await hooks.waitFor(() => hooks.for(u.user.id).some((r) => r.eventId === `exec:${early}:FAILED`), 'the early row');
      const cursor = (await app.db.pool.query<{ ahead: boolean }>(
        `SELECT position > (SELECT "executedAt" FROM "ExecutionLog" WHERE id = $1) - interval '2 seconds' AS ahead FROM "NotificationCursor" WHERE id = 'exec'`, [early])).rows[0]!;
      assert.equal(cursor.ahead, true, 'the cursor passed the late row\'s timestamp');
      await slow.query('COMMIT');
      await hooks.waitFor(() => hooks.for(u.user.id).some((r) => r.eventId === `exec:${late!.id}:FAILED`), 'the late row');
    } finally { slow.release(); }
    const [marker] = await finishedRows(app, sig, u.user.id, [{ status: 'FAILED', error: 'EXCHANGE_DOWN: marker' }]);
    await hooks.waitFor(() => hooks.for(u.user.id).some((r) => r.eventId === `exec:${marker}:FAILED`), 'the marker');
    const ids = hooks.for(u.user.id).map((r) => r.eventId);
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
  });

  it('the paper executor fills a webhook signal and skips a CLOSE without a position: the subscriber gets order.filled and order.skipped with the reason', async () => {
    const { author, strategyId, secret } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    void author;
    const u = await subscriber(['order.filled', 'order.skipped', 'order.failed']);
    const sub = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey: `paperkey-${randomUUID()}`, apiSecret: `papersecret-${randomUUID()}` }, u.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const open = await client(app).post(`/api/webhooks/tradingview/${strategyId}`, { secret, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 64000.5 });
    assert.equal(open.status, 202, JSON.stringify(open.body));
    await hooks.waitFor(() => hooks.for(u.user.id).some((r) => r.json.type === 'order.filled'), 'order.filled', 30_000);
    const filled = hooks.for(u.user.id).find((r) => r.json.type === 'order.filled')!;
    assert.equal(filled.json.data.pair, 'BTC/USDT');
    assert.equal(filled.json.data.paper, true);
    assert.equal(filled.json.data.subscriptionId, sub.body.id);
    // A second subscriber, joining after the OPEN, holds no position: the CLOSE is SKIPPED NO_POSITION for it.
    const v = await subscriber(['order.skipped']);
    const sub2 = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey: `paperkey-${randomUUID()}`, apiSecret: `papersecret-${randomUUID()}` }, v.token);
    assert.equal(sub2.status, 201);
    const close = await client(app).post(`/api/webhooks/tradingview/${strategyId}`, { secret, pair: 'BTC/USDT', action: 'CLOSE', direction: 'LONG', price: 64100 });
    assert.equal(close.status, 202, JSON.stringify(close.body));
    await hooks.waitFor(() => hooks.for(v.user.id).some((r) => r.json.type === 'order.skipped'), 'order.skipped', 30_000);
    const skipped = hooks.for(v.user.id).find((r) => r.json.type === 'order.skipped')!;
    assert.equal(skipped.json.data.code, 'NO_POSITION');
    assert.match(skipped.json.data.reason, /^NO_POSITION: /);
    await waitUntil('row sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: v.user.id, status: 'sent' } })) === 1);
  });
});
