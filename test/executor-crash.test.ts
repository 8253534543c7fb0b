/**
 * Crash test: the executor runs as a child process (`node --import tsx src/main.ts`, ROLES=executor)
 * and is killed with SIGKILL at random moments while it works through one signal for 500
 * subscriptions, 10 times; a last child finishes. The fake exchange lives in this (surviving) process
 * in 'strict' mode, so any resent clientOrderId would be refused and counted.
 * Afterwards: exactly one order per (subscription, signal) on the exchange, one final SUCCESS row each.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from '../src/app.js';
import { startTestApp, TEST_JWT, TEST_KEY } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { FakeBinance } from './support/fake-exchange.js';

const SUBS = 500;
const KILLS = 10;

function startExecutor(origin: string, concurrency = 8): { child: ChildProcess; started: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH, NODE_ENV: 'test', ROLES: 'executor', DATABASE_URL: TEST_DATABASE_URL, TRADING_MODE: 'live',
      EXCHANGE_URL_BINANCE: origin, JWT_SECRET: TEST_JWT, KEY_ENCRYPTION_KEY: TEST_KEY, LOG_LEVEL: 'info',
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-crash-')), EXECUTOR_LEASE_MS: '2500', EXCHANGE_RECV_WINDOW_MS: '500',
      EXECUTOR_CONCURRENCY: String(concurrency), EXCHANGE_TIMEOUT_MS: '2000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('executor started')) { resolve(); out = ''; } else if (out.length > 100_000) out = out.slice(-1000); });
    child.stderr!.on('data', () => {});
    child.once('exit', (code) => reject(new Error(`executor exited early (${code})`)));
  });
  started.catch(() => {});
  return { child, started };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

describe('executor crash safety (child process killed with SIGKILL, restarted)', function () {
  this.timeout(120_000);
  const fake = new FakeBinance({ duplicateClientIdMode: 'strict' });
  let app: App;
  let origin = '';

  before(async () => {
    origin = await fake.start();
    app = await startTestApp({ ROLES: 'api' });
  });
  const children = new Set<ChildProcess>();
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await app?.stop();
    await fake.stop();
  });

  it(`after ${KILLS} kills at random moments during a batch of ${SUBS} subscriptions, every subscription has exactly one order and one final row`, async () => {
    const prisma = app.db.prisma;
    const strategy = await prisma.strategy.create({ data: { name: `crash ${randomUUID().slice(0, 6)}` } });
    const keys = Array.from({ length: SUBS }, (_, i) => ({ apiKey: `crash-${i}-${randomUUID()}`, secret: `s-${randomUUID()}`, userId: randomUUID() }));
    for (const k of keys) fake.addAccount(k.apiKey, k.secret, { USDT: 1000 });
    // One user per subscription: a user has at most one live subscription per strategy.
    await prisma.user.createMany({ data: keys.map((k) => ({ id: k.userId, email: `crash-${k.userId}@test.local`, passwordHash: 'x' })) });
    await prisma.subscription.createMany({
      data: keys.map((k) => ({
        userId: k.userId, strategyId: strategy.id, exchange: 'binance', sizing: { mode: 'quote', amount: 50 },
        apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
      })),
    });
    const subs = await prisma.subscription.findMany({ where: { strategyId: strategy.id } });
    const keyOf = new Map(subs.map((s) => [s.id, app.keyring.decrypt(s.apiKeyEnc!)]));
    fake.injectFault({ kind: 'latency', ms: 150 }, { path: '/api/v3/order', method: 'POST' });
    const { signal } = await app.coordinator.accept({ strategyId: strategy.id, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, 'api');

    const t0 = Date.now();
    const done = () => prisma.executionLog.count({ where: { signalId: signal.id, status: { not: 'PENDING' } } });
    for (let i = 0; i < KILLS; i++) {
      const before = await done();
      const { child, started } = startExecutor(origin);
      children.add(child);
      await started;
      // Kill mid-work: once this child has finished something (or after 3 s), at a random moment within 300 ms.
      const until = Date.now() + 3000;
      while ((await done()) === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      child.kill('SIGKILL');
      await exited(child);
      if (process.env.CRASH_DEBUG) process.stderr.write(`round ${i}: ${Date.now() - t0} ms, ${await done()} done\n`);
    }
    const progressBeforeLast = await done();
    fake.clearFaults(); // the last run only has to finish the batch
    const { child, started } = startExecutor(origin, 64);
    children.add(child);
    await started;
    const deadline = Date.now() + 40_000;
    while ((await done()) < SUBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await exited(child);

    const rows = await prisma.executionLog.findMany({ where: { signalId: signal.id } });
    assert.equal(rows.length, SUBS);
    assert.ok(progressBeforeLast > 0 && progressBeforeLast < SUBS, `kills happened mid-batch (${progressBeforeLast} of ${SUBS} done before the last start)`);
    assert.deepEqual([...new Set(rows.map((r) => r.status))], ['SUCCESS']);
    for (const row of rows) {
      const key = keyOf.get(row.subscriptionId)!;
      assert.equal(fake.ordersByClientId(row.clientOrderId, key).length, 1, `one order for ${row.subscriptionId}`);
      assert.equal(fake.orders(key).length, 1);
      assert.equal(row.orderId, String(fake.orders(key)[0]!.orderId));
    }
    const stats = fake.stats();
    assert.equal(keys.reduce((n, k) => n + (stats.ordersRejected[k.apiKey] ?? 0), 0), 0, 'no order was ever resent (strict mode refuses a reused clientOrderId)');
  });
});
