/**
 * Crash test for futures: the executor runs as a child process (test/support/processes.ts, ROLES=executor) and is
 * killed with SIGKILL at random moments while it works through a LONG signal and a SHORT signal (each with a
 * stop-loss and a take-profit) for futures subscriptions spread over FakeBinanceFutures and FakeBybitLinear
 * (150 ms latency on every order path); a last child finishes. Afterwards, per subscription: exactly one
 * entry on its venue, exactly one stop-loss and one take-profit under our ids (never a second one, never
 * missing), a SUCCESS row and a Position that names both. Bybit never accepts an orderLinkId twice and Binance
 * client ids are unique only among open orders: only lookups before any resend make this hold.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { clientOrderId } from '../src/execution/index.js';
import { startTestApp } from './support/app.js';
import { futuresVenues, leaveNothingOpen } from './support/futures-kit.js';
import { spawnServer, type ServerProcess } from './support/processes.js';
import { waitFor } from './support/wait.js';

const SUBS = 80;
const KILLS = 4;

describe('futures executor crash safety (child killed with SIGKILL, restarted)', function () {
  this.timeout(Number(process.env.CRASH_TIMEOUT_MS ?? 120_000));
  const venues = futuresVenues();
  const env: Record<string, string> = {};
  let app: App;
  const children = new Set<ServerProcess>();

  before(async () => {
    for (const v of venues) env[`EXCHANGE_URL_${v.id.toUpperCase()}`] = await v.fake.start();
    app = await startTestApp({ ROLES: 'api' });
  });
  let subIds: string[] = [];
  after(async () => {
    for (const c of children) await c.kill();
    await leaveNothingOpen(app, subIds);
    await app?.stop();
    await Promise.all(venues.map((v) => v.fake.stop()));
  });

  /** An executor child, once it logged "executor started" (sooner than its /health on a loaded machine). */
  const executor = async (concurrency: number) => {
    const child = await spawnServer({
      ...env, ROLES: 'executor', TRADING_MODE: 'live', EXECUTOR_LEASE_MS: '2500', EXCHANGE_RECV_WINDOW_MS: '500', EXECUTOR_CONCURRENCY: String(concurrency), LOG_LEVEL: 'info',
      EXCHANGE_TIMEOUT_MS: '2000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200', EXCHANGE_BUDGET_PER_MINUTE_BYBIT: '1000000', EXCHANGE_BUDGET_PER_MINUTE_BINANCEUSDM: '1000000',
    }, { waitHealth: false });
    children.add(child);
    await waitFor('executor started', () => child.output().includes('executor started'), 60_000);
    return child;
  };

  it(`after ${KILLS} kills during a LONG and a SHORT signal to ${SUBS} futures subscriptions, each has one entry, one SL and one TP on its venue`, async () => {
    const prisma = app.db.prisma;
    const strategies = await Promise.all(['LONG', 'SHORT'].map((d) => prisma.strategy.create({ data: { name: `fcrash ${d} ${randomUUID().slice(0, 6)}` } })));
    const keys = Array.from({ length: SUBS }, (_, i) => ({
      venue: venues[i % 2]!, strategy: strategies[Math.floor(i / 2) % 2]!, apiKey: `fcrash-${i}-${randomUUID()}`, secret: `s-${randomUUID()}`, userId: randomUUID(),
    }));
    for (const k of keys) k.venue.fake.addAccount(k.apiKey, k.secret, { USDT: 1000 });
    await prisma.user.createMany({ data: keys.map((k) => ({ id: k.userId, email: `fcrash-${k.userId}@test.local`, passwordHash: 'x' })) });
    await prisma.subscription.createMany({
      data: keys.map((k) => ({
        userId: k.userId, strategyId: k.strategy.id, exchange: k.venue.id, market: 'futures', leverage: 3, sizing: { mode: 'quote', amount: 50 },
        apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
      })),
    });
    const subs = await prisma.subscription.findMany({ where: { strategyId: { in: strategies.map((s) => s.id) } } });
    subIds = subs.map((s) => s.id);
    const keyOf = new Map(subs.map((s) => [s.id, keys.find((k) => k.apiKey === app.keyring.decrypt(s.apiKeyEnc!))!]));
    for (const v of venues) {
      v.fake.setMarkPrice(v.eth, 3000);
      v.fake.injectFault({ kind: 'latency', ms: 150 }, { path: v.entryPath, method: 'POST' });
      v.fake.injectFault({ kind: 'latency', ms: 150 }, { path: v.protectivePath, method: 'POST' });
    }
    const signals = await Promise.all([
      app.coordinator.accept({ strategyId: strategies[0]!.id, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, stopLoss: 2800, takeProfit: 3300 }, 'api'),
      app.coordinator.accept({ strategyId: strategies[1]!.id, pair: 'ETH/USDT', action: 'OPEN', direction: 'SHORT', price: 3000, stopLoss: 3200, takeProfit: 2700 }, 'api'),
    ]).then((r) => r.map((x) => x.signal));
    const done = () => prisma.executionLog.count({ where: { signalId: { in: signals.map((s) => s.id) }, status: { not: 'PENDING' } } });

    const t0 = Date.now();
    for (let i = 0; i < KILLS; i++) {
      const before = await done();
      const child = await executor(8);
      const until = Date.now() + 3000;
      while ((await done()) === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await child.kill('SIGKILL');
      if (process.env.CRASH_DEBUG) process.stderr.write(`round ${i}: ${await done()} done at ${Date.now() - t0} ms\n`);
    }
    const progressBeforeLast = await done();
    for (const v of venues) v.fake.clearFaults();
    const last = await executor(64);
    const deadline = Date.now() + 40_000;
    while ((await done()) < SUBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await last.kill('SIGTERM');
    if (process.env.CRASH_DEBUG) process.stderr.write(`last: ${await done()} done at ${Date.now() - t0} ms\n`);

    assert.ok(progressBeforeLast > 0 && progressBeforeLast < SUBS, `kills happened mid-batch (${progressBeforeLast} of ${SUBS} done before the last start)`);
    const rows = await prisma.executionLog.findMany({ where: { signalId: { in: signals.map((s) => s.id) } } });
    assert.equal(rows.length, SUBS);
    const positions = new Map((await prisma.position.findMany({ where: { subscriptionId: { in: subs.map((s) => s.id) } } })).map((p) => [p.subscriptionId, p]));
    const tally = new Map(venues.map((v) => [v.id, { success: 0, missingEntries: 0, duplicateEntries: 0, missingStops: 0, duplicateStops: 0 }]));
    for (const row of rows) {
      const k = keyOf.get(row.subscriptionId)!;
      const t = tally.get(k.venue.id)!;
      if (row.status === 'SUCCESS') t.success++;
      const acct = k.venue.fake.futuresAccount(k.apiKey);
      const entries = acct.orders.filter((o) => !o.reduceOnly).length;
      if (entries === 0) t.missingEntries++;
      if (entries > 1) t.duplicateEntries++;
      for (const leg of ['sl', 'tp'] as const) {
        const id = clientOrderId(row.signalId!, row.subscriptionId, leg);
        const n = acct.conditionals.filter((c) => c.clientId === id).length;
        if (n === 0) t.missingStops++;
        if (n > 1) t.duplicateStops++;
        assert.equal(positions.get(row.subscriptionId)?.[leg === 'sl' ? 'slClientOrderId' : 'tpClientOrderId'], id, 'the Position names the resting order');
      }
    }
    for (const v of venues) {
      assert.deepEqual(tally.get(v.id), { success: SUBS / 2, missingEntries: 0, duplicateEntries: 0, missingStops: 0, duplicateStops: 0 }, `${v.id}: one entry, one SL, one TP each`);
    }
  });
});
