/**
 * Crash test: the executor runs as a child process (`node --import tsx src/main.ts`, ROLES=executor)
 * and is killed with SIGKILL at random moments while it works through one signal for 500
 * subscriptions spread over three venues (FakeBinance, FakeMexc, FakeBybit), 10 times; a last child
 * finishes. The fakes live in this (surviving) process. FakeBinance is 'strict' (a resent
 * clientOrderId is refused and counted), FakeBybit never accepts an orderLinkId twice, and FakeMexc
 * follows Binance's real rule (unique among open orders only: a resent id of a filled market order
 * would be a second order).
 * Afterwards, per venue: exactly one order per (subscription, signal) on the exchange, one final SUCCESS
 * row each, and no order the venue refused (a resent id would be refused on Binance and Bybit, and would be a
 * second order on MEXC).
 * CRASH_DEBUG=<file> prints each round and appends the children's logs to the file; CRASH_TIMEOUT_MS sets the
 * test's timeout (default 120 s) for a loaded machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App } from '../src/app.js';
import { startTestApp, TEST_JWT, TEST_KEY } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { FakeBinance, FakeBybit, FakeMexc } from './support/fake-exchange.js';

const SUBS = 500;
const KILLS = 10;

type Origins = { binance: string; mexc: string; bybit: string };

function startExecutor(origins: Origins, concurrency = 8): { child: ChildProcess; started: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH, NODE_ENV: 'test', ROLES: 'executor', DATABASE_URL: TEST_DATABASE_URL, TRADING_MODE: 'live',
      EXCHANGE_URL_BINANCE: origins.binance, EXCHANGE_URL_MEXC: origins.mexc, EXCHANGE_URL_BYBIT: origins.bybit, JWT_SECRET: TEST_JWT, KEY_ENCRYPTION_KEY: TEST_KEY, LOG_LEVEL: 'info',
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-crash-')), EXECUTOR_LEASE_MS: '2500', EXCHANGE_RECV_WINDOW_MS: '500',
      EXECUTOR_CONCURRENCY: String(concurrency), EXCHANGE_TIMEOUT_MS: '2000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
      // The default venue budget follows ccxt's per-client pace (MEXC 960 units a minute per process, a few per
      // order with its lookup): it would spread 167 MEXC orders over minutes. The fakes have no IP limit.
      EXCHANGE_BUDGET_PER_MINUTE_MEXC: '1000000', EXCHANGE_BUDGET_PER_MINUTE_BYBIT: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('executor started')) { resolve(); out = ''; } else if (out.length > 100_000) out = out.slice(-1000); });
    child.stderr!.on('data', () => {});
    if (process.env.CRASH_DEBUG) { child.stdout!.pipe(createWriteStream(process.env.CRASH_DEBUG, { flags: 'a' })); child.stderr!.pipe(createWriteStream(process.env.CRASH_DEBUG, { flags: 'a' })); }
    child.once('exit', (code) => reject(new Error(`executor exited early (${code})`)));
  });
  started.catch(() => {});
  return { child, started };
}

const exited = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

describe('executor crash safety (child process killed with SIGKILL, restarted)', function () {
  this.timeout(Number(process.env.CRASH_TIMEOUT_MS ?? 120_000));
  const binance = new FakeBinance({ duplicateClientIdMode: 'strict' });
  const mexc = new FakeMexc();
  const bybit = new FakeBybit();
  // Per venue: its fake and the path its orders are created on.
  const venues = [
    { id: 'binance', fake: binance as FakeBinance | FakeMexc | FakeBybit, createPath: '/api/v3/order' },
    { id: 'mexc', fake: mexc, createPath: '/api/v3/order' },
    { id: 'bybit', fake: bybit, createPath: '/v5/order/create' },
  ];
  let app: App;
  const origins: Origins = { binance: '', mexc: '', bybit: '' };

  before(async () => {
    origins.binance = await binance.start();
    origins.mexc = await mexc.start();
    origins.bybit = await bybit.start();
    app = await startTestApp({ ROLES: 'api' });
  });
  const children = new Set<ChildProcess>();
  let signalId: string | undefined;
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // A run that ended early (a timeout) must not leave PENDING rows behind: their keys are sealed with this
    // process's random TEST_KEY, and every later executor on this database would keep handing them back.
    if (signalId) await app?.db.prisma.executionLog.updateMany({ where: { signalId, status: 'PENDING' }, data: { status: 'FAILED', error: 'crash test ended before this row was done' } });
    await app?.stop();
    await Promise.all(venues.map((v) => v.fake.stop()));
  });

  it(`after ${KILLS} kills at random moments during a batch of ${SUBS} subscriptions on three venues, every subscription has exactly one order on its venue and one final row`, async () => {
    const prisma = app.db.prisma;
    const strategy = await prisma.strategy.create({ data: { name: `crash ${randomUUID().slice(0, 6)}` } });
    const keys = Array.from({ length: SUBS }, (_, i) => ({ venue: venues[i % venues.length]!, apiKey: `crash-${i}-${randomUUID()}`, secret: `s-${randomUUID()}`, userId: randomUUID() }));
    for (const k of keys) k.venue.fake.addAccount(k.apiKey, k.secret, { USDT: 1000 });
    // One user per subscription: a user has at most one live subscription per strategy.
    await prisma.user.createMany({ data: keys.map((k) => ({ id: k.userId, email: `crash-${k.userId}@test.local`, passwordHash: 'x' })) });
    await prisma.subscription.createMany({
      data: keys.map((k) => ({
        userId: k.userId, strategyId: strategy.id, exchange: k.venue.id, sizing: { mode: 'quote', amount: 50 },
        apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
      })),
    });
    const subs = await prisma.subscription.findMany({ where: { strategyId: strategy.id } });
    const keyOf = new Map(subs.map((s) => [s.id, { key: app.keyring.decrypt(s.apiKeyEnc!), venue: venues.find((v) => v.id === s.exchange)! }]));
    for (const v of venues) v.fake.injectFault({ kind: 'latency', ms: 150 }, { path: v.createPath, method: 'POST' });
    const { signal } = await app.coordinator.accept({ strategyId: strategy.id, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, 'api');
    signalId = signal.id;

    const t0 = Date.now();
    const done = () => prisma.executionLog.count({ where: { signalId: signal.id, status: { not: 'PENDING' } } });
    for (let i = 0; i < KILLS; i++) {
      const before = await done();
      const { child, started } = startExecutor(origins);
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
    for (const v of venues) v.fake.clearFaults(); // the last run only has to finish the batch
    const { child, started } = startExecutor(origins, 64);
    children.add(child);
    await started;
    const deadline = Date.now() + 40_000;
    while ((await done()) < SUBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await exited(child);

    const rows = await prisma.executionLog.findMany({ where: { signalId: signal.id } });
    assert.equal(rows.length, SUBS);
    assert.ok(progressBeforeLast > 0 && progressBeforeLast < SUBS, `kills happened mid-batch (${progressBeforeLast} of ${SUBS} done before the last start)`);
    const perVenue = new Map(venues.map((v) => [v.id, { subs: 0, success: 0, missing: 0, duplicates: 0 }]));
    for (const row of rows) {
      const { key, venue } = keyOf.get(row.subscriptionId)!;
      const count = perVenue.get(venue.id)!;
      count.subs++;
      if (row.status === 'SUCCESS') count.success++;
      const orders = venue.fake.orders(key);
      if (orders.length === 0) count.missing++;
      if (orders.length > 1) count.duplicates++;
      if (orders.length !== 1 || row.status !== 'SUCCESS') continue;
      // MEXC knows the order under the first 32 characters of our stored id.
      assert.ok(row.clientOrderId.startsWith(orders[0]!.clientOrderId), `${venue.id}: ${row.clientOrderId} ↔ ${orders[0]!.clientOrderId}`);
      assert.equal(row.orderId, String(orders[0]!.orderId), `${venue.id}: the row records the venue's order`);
    }
    const expected = new Map(venues.map((v, i) => [v.id, { subs: Math.floor(SUBS / venues.length) + (i < SUBS % venues.length ? 1 : 0) }]));
    for (const v of venues) {
      const n = expected.get(v.id)!.subs;
      assert.deepEqual(perVenue.get(v.id), { subs: n, success: n, missing: 0, duplicates: 0 }, `${v.id}: every subscription SUCCESS with exactly one order`);
    }
    const stats = binance.stats();
    const rejected = (k: (typeof keys)[number]) => (k.venue.fake instanceof FakeBinance ? stats.ordersRejected[k.apiKey] ?? 0 : k.venue.fake.engine.accounts.get(k.apiKey)!.rejectedOrders);
    for (const v of venues) {
      assert.equal(keys.filter((k) => k.venue === v).reduce((n, k) => n + rejected(k), 0), 0, `${v.id}: no order was ever refused (a resent id would be)`);
    }
  });
});
