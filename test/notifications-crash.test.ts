/**
 * Crash test: the notifier runs as a child process (ROLES=notifier) and is killed with SIGKILL while it
 * is delivering a batch of webhooks to a slow receiver in this process; a second child takes over when
 * the leases of the first run out. Nothing is lost; a message delivered twice carries the same event id
 * and the same body (the at-least-once contract).
 */
import assert from 'node:assert/strict';
import type { App } from '../src/app.js';
import { client, registerUser, startTestApp } from './support/app.js';
import { finishedRows, seedSignal, waitUntil, WebhookReceiver } from './support/notify-kit.js';
import { spawnServer, type ServerProcess } from './support/processes.js';

const EVENTS = 60;
const CHILD_ENV = { ROLES: 'notifier', NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100', NOTIFY_LEASE_MS: '1500', NOTIFY_RETRY_BASE_MS: '100', NOTIFY_RETRY_MAX_MS: '300' };

describe('notifier crash safety (child killed with SIGKILL mid-batch, another takes over)', function () {
  this.timeout(120_000); // two child starts (node --import tsx src/main.ts: several seconds each on a loaded machine)
  const hooks = new WebhookReceiver();
  let app: App;
  const children: ServerProcess[] = [];

  before(async () => {
    await hooks.start();
    app = await startTestApp({ ROLES: 'api', NOTIFY_ALLOW_PRIVATE_TARGETS: 'true' });
  });
  after(async () => {
    for (const c of children) await c.kill();
    await app?.stop();
    await hooks.stop();
  });

  it('kill -9 while webhooks are in flight: every event arrives, duplicates only with the same event id and body', async () => {
    const u = await registerUser(app);
    const r = await client(app).post('/api/notifications/webhook', { url: `${hooks.url}/hook/${u.user.id}` }, u.token);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    hooks.secrets.set(u.user.id, r.body.secret);
    hooks.delayMs = 400; // slow enough that requests are in flight when the child dies
    const sig = await seedSignal(app);
    const first = await spawnServer(CHILD_ENV);
    children.push(first);
    const ids = await finishedRows(app, sig, u.user.id, Array.from({ length: EVENTS }, (_, i) => ({ status: 'FAILED', error: `EXCHANGE_DOWN: ${i}` })));
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 8, 'the first deliveries');
    // From now on the receiver holds each request for a minute, so the rows the child claims stay claimed and
    // unsent until it is killed (with 400 ms the child could finish a round between our look and the kill).
    hooks.delayMs = 60_000;
    const inFlight = () => app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: { in: ['pending', 'retrying'] }, lockedBy: { not: null } } });
    // Rows claimed while no delivery has completed for 1 s are held ones (a 400 ms one would have completed),
    // so they cannot be finished between this look and the kill.
    let seen = hooks.for(u.user.id).length;
    let quietSince = Date.now();
    await waitUntil('held rows in flight', async () => {
      const now = hooks.for(u.user.id).length;
      if (now !== seen) { seen = now; quietSince = Date.now(); }
      return Date.now() - quietSince >= 1000 && (await inFlight()) > 0;
    });
    await first.kill('SIGKILL');
    hooks.delayMs = 0;
    const atKill = hooks.for(u.user.id).length;
    assert.ok(atKill < EVENTS, 'killed mid-batch');
    const orphaned = await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: { in: ['pending', 'retrying'] }, lockedBy: { not: null } } });
    assert.ok(orphaned > 0, 'rows were claimed and unsent when the child died');

    const second = await spawnServer(CHILD_ENV);
    children.push(second);
    const expected = new Set(ids.map((id) => `exec:${id}:FAILED`));
    await waitUntil('every event delivered', () => new Set(hooks.for(u.user.id).map((x) => x.eventId)).size === EVENTS, 120_000);
    await waitUntil('every row sent', async () => (await app.db.prisma.notificationOutbox.count({ where: { userId: u.user.id, status: 'sent' } })) === EVENTS);
    const got = hooks.for(u.user.id);
    assert.ok(got.every((x) => expected.has(x.eventId)), 'only the expected event ids');
    const byId = new Map<string, string[]>();
    for (const x of got) byId.set(x.eventId, [...(byId.get(x.eventId) ?? []), x.body]);
    for (const [id, bodies] of byId) assert.ok(bodies.every((b) => b === bodies[0]), `duplicates of ${id} carry the same body`);
    const dups = got.length - EVENTS;
    assert.ok(dups <= 4, `${dups} duplicates (at most the in-flight ones)`);
  });
});
