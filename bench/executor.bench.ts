/**
 * Executor benchmark: one signal to 1,000 subscriptions (each its own API key) spread over the three venues
 * (FakeBinance, FakeMexc, FakeBybit: 334 / 333 / 333) in live mode, real ccxt over HTTP, a fresh PostgreSQL
 * database. Measures the time from accepting the signal until the fakes hold all 1,000 orders, at 0 ms and
 * 50 ms exchange latency, and our own overhead per order (job time minus time spent in exchange calls), p99.
 * MEXC and Bybit answer a create without its fill, so the executor looks each of their orders up once more.
 * Each app first serves a warm-up signal of WARM_UP subscriptions (market lists loaded, code paths compiled).
 * `npm run bench -- executor --rows=latency` runs only the rows whose name contains "latency" (see run.ts).
 */
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import type { SubscriptionExecutor } from '../src/execution/index.js';
import { startTestApp } from '../test/support/app.js';
import { FakeBinance, FakeBybit, FakeMexc } from '../test/support/fake-exchange.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase, startCommitProbe } from './support.js';

const SUBS = 1000;

/** One venue: its fake, the path orders are created on, and how many orders an account holds. */
interface Venue { id: string; createPath: string; fake: FakeBinance | FakeMexc | FakeBybit; orderCount(apiKey: string): number }

function venues(): Venue[] {
  const binance = new FakeBinance({ duplicateClientIdMode: 'strict', weightLimitPerMinute: 1_000_000 });
  const mexc = new FakeMexc();
  const bybit = new FakeBybit();
  // Counters, not fake.orders(): snapshotting every order every 5 ms burned more CPU in this (shared)
  // process than the executor under test.
  const engineCount = (f: FakeMexc | FakeBybit) => (k: string) => f.engine.accounts.get(k)?.orders.length ?? 0;
  return [
    { id: 'binance', createPath: '/api/v3/order', fake: binance, orderCount: (k) => binance.stats().ordersAccepted[k] ?? 0 },
    { id: 'mexc', createPath: '/api/v3/order', fake: mexc, orderCount: engineCount(mexc) },
    { id: 'bybit', createPath: '/v5/order/create', fake: bybit, orderCount: engineCount(bybit) },
  ];
}

interface Seeded { strategyId: string; keys: { apiKey: string; venue: Venue }[] }

async function seed(app: App, vs: Venue[], n: number): Promise<Seeded> {
  const prisma = app.db.prisma;
  const strategy = await prisma.strategy.create({ data: { name: `bench ${randomUUID().slice(0, 6)}` } });
  const keys = Array.from({ length: n }, (_, i) => ({ venue: vs[i % vs.length]!, apiKey: `bench-${randomUUID()}`, secret: `s-${randomUUID()}`, userId: randomUUID() }));
  for (const k of keys) k.venue.fake.addAccount(k.apiKey, k.secret, { USDT: 1000 });
  // One user per subscription: a user has at most one live subscription per strategy.
  await prisma.user.createMany({ data: keys.map((k) => ({ id: k.userId, email: `bench-${k.userId}@bench.local`, passwordHash: 'x' })) });
  await prisma.subscription.createMany({
    data: keys.map((k) => ({
      userId: k.userId, strategyId: strategy.id, exchange: k.venue.id, sizing: { mode: 'quote', amount: 50 },
      apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
    })),
  });
  return { strategyId: strategy.id, keys: keys.map((k) => ({ apiKey: k.apiKey, venue: k.venue })) };
}

async function round(app: App, vs: Venue[], executor: SubscriptionExecutor, latencyMs: number, n = SUBS): Promise<{ seconds: number; p99: number; preSendP99: number; recordP99: number; recordP50: number }> {
  const { strategyId, keys } = await seed(app, vs, n);
  // The create-request counters are a cheap lower bound on the time; once they reach n, the exact
  // per-account counts decide.
  const posts = () => vs.reduce((sum, v) => sum + v.fake.requestCount(v.createPath, 'POST'), 0);
  const postsBefore = posts();
  const accepted = () => { if (posts() - postsBefore < n) return 0; let got = 0; for (const k of keys) got += k.venue.orderCount(k.apiKey); return got; };
  for (const v of vs) {
    v.fake.clearFaults();
    if (latencyMs) v.fake.injectFault({ kind: 'latency', ms: latencyMs }, { path: v.createPath, method: 'POST' });
  }
  for (const a of [executor.metrics.overheadSamples, executor.metrics.preSendSamples, executor.metrics.recordSamples]) a.length = 0;
  const t0 = performance.now();
  await app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, 'api');
  while (accepted() < n && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  for (const v of vs) {
    const mine = keys.filter((k) => k.venue === v);
    const placed = mine.filter((k) => v.orderCount(k.apiKey) === 1).length;
    if (placed === mine.length) continue;
    const outcomes = await app.db.prisma.executionLog.groupBy({ by: ['status', 'error'], where: { signal: { strategyId }, subscription: { exchange: v.id } }, _count: true });
    const seen = outcomes.map((o) => `${o._count} ${o.status}${o.error ? ` ${o.error.slice(0, 120)}` : ''}`).join('; ');
    throw new Error(`${v.id}: only ${placed} of ${mine.length} subscriptions have exactly one order after ${seconds.toFixed(1)} s (${seen})`);
  }
  await new Promise((r) => setTimeout(r, 1500)); // let the last rows be recorded (MEXC/Bybit confirm each order by a lookup)
  const m = executor.metrics;
  const record = summarise(m.recordSamples);
  return { seconds, p99: summarise(m.overheadSamples).p99, preSendP99: summarise(m.preSendSamples).p99, recordP99: record.p99, recordP50: record.p50 };
}

const executorOf = (app: App) => (app.components.find((c) => c.name === 'executor') as unknown as { executor: SubscriptionExecutor }).executor;
const SOLO = 500;
/**
 * A first round of this many subscriptions before the measured ones: each process loads every venue's market
 * list once (then shares it, refreshed in the background), and ccxt's code paths compile on first use. The rows
 * measure an executor that has served a signal before, as a running one has.
 */
const WARM_UP = 30;
const PROBED = 500;

/** BENCH_ROWS (set by run.ts from --rows=a,b): only rows whose name contains one of these (case-insensitive). */
const wanted = (name: string) => {
  const only = (process.env.BENCH_ROWS ?? '').toLowerCase().split(',').map((r) => r.trim()).filter(Boolean);
  return !only.length || only.some((o) => name.toLowerCase().includes(o));
};

const VENUES = 'three venues (Binance, MEXC, Bybit: 334 / 333 / 333)';
const NAMES = {
  fast: `executor: 1 signal → ${SUBS} subscriptions over ${VENUES}, all orders on the exchanges (latency 0 ms)`,
  slow: `executor: 1 signal → ${SUBS} subscriptions over ${VENUES}, all orders on the exchanges (latency 50 ms)`,
  solo: `executor: own overhead per order (job time minus exchange calls), p99, one job at a time (${SOLO} orders over the three venues)`,
  preSend: 'executor: of which, job start → order request leaves (keys, sizing, rules), p99, same run',
  record: 'executor: of which, recording the final status and position (one durable commit), p99, same run',
  probed: `executor: recording the final status and position, p50 / p99, one job at a time (${PROBED} orders) with the commit probe below running`,
  floor: 'machine floor, same round: a bare one-row durable UPDATE commit every 10 ms from a worker thread (own connection, idle event loop), p50 / p99',
  crowd: 'executor: the same at 64 jobs in flight (includes waiting for the event loop shared with the other jobs and the in-process fake exchanges), p99',
};

export default async function bench(): Promise<BenchRow[]> {
  const vs = venues();
  const origins = await Promise.all(vs.map((v) => v.fake.start()));
  const urls = Object.fromEntries(vs.map((v, i) => [`EXCHANGE_URL_${v.id.toUpperCase()}`, origins[i]!]));
  // The venue budget defaults to ccxt's per-client pace (MEXC: 60 000 / 50 ms × 80 % = 960 units a minute
  // for the whole process, ~3 units per MEXC order with its lookup): it would hold 333 MEXC orders back for
  // minutes. The fakes have no IP limit; this bench measures the executor, so the budget is set out of the way.
  const budgets = Object.fromEntries(vs.map((v) => [`EXCHANGE_BUDGET_PER_MINUTE_${v.id.toUpperCase()}`, '1000000']));
  const env = { DATABASE_URL: await freshDatabase('sm_bench_executor'), ROLES: 'executor', TRADING_MODE: 'live', ...urls, ...budgets, DB_POOL_MAX: '20' };
  const rows: BenchRow[] = [];
  try {
    if (wanted(NAMES.fast) || wanted(NAMES.slow) || wanted(NAMES.crowd)) {
      const app = await startTestApp({ ...env, EXECUTOR_CONCURRENCY: '64' });
      try {
        await round(app, vs, executorOf(app), 0, WARM_UP);
        const fast = wanted(NAMES.fast) || wanted(NAMES.crowd) ? await round(app, vs, executorOf(app), 0) : undefined;
        const slow = wanted(NAMES.slow) || wanted(NAMES.crowd) ? await round(app, vs, executorOf(app), 50) : undefined;
        if (fast) rows.push({ name: NAMES.fast, value: `${fast.seconds.toFixed(2)} s`, target: '< 3 s', verdict: verdict(fast.seconds < 3) });
        if (slow) rows.push({ name: NAMES.slow, value: `${slow.seconds.toFixed(2)} s`, target: '< 5 s', verdict: verdict(slow.seconds < 5) });
        if (fast && slow) rows.push({ name: NAMES.crowd, value: ms(Math.max(fast.p99, slow.p99)) });
      } finally { await app.stop(); }
    }
    // Our own cost per order without queueing: one job at a time, so a job's time minus its exchange calls
    // is the executor's code path (keys, sizing, claim bookkeeping, the final write), not the wait for an
    // event loop shared by 64 jobs and, in this bench, the fake exchanges themselves.
    // Then the machine's floor for the record step: a second round with a bare one-row durable commit made
    // every 10 ms from a worker thread (own connection, otherwise idle event loop). The probe adds load of
    // its own, so it runs in its own round and is compared with the record step of that round only.
    if ([NAMES.solo, NAMES.preSend, NAMES.record, NAMES.probed, NAMES.floor].some(wanted)) {
      const soloApp = await startTestApp({ ...env, EXECUTOR_CONCURRENCY: '1' });
      try {
        await round(soloApp, vs, executorOf(soloApp), 0, WARM_UP);
        const solo = await round(soloApp, vs, executorOf(soloApp), 0, SOLO);
        rows.push(
          { name: NAMES.solo, value: ms(solo.p99), target: '< 5 ms', verdict: verdict(solo.p99 < 5) },
          { name: NAMES.preSend, value: ms(solo.preSendP99) },
          { name: NAMES.record, value: ms(solo.recordP99) },
        );
        if (wanted(NAMES.probed) || wanted(NAMES.floor)) {
          const probe = await startCommitProbe(env.DATABASE_URL, 10);
          let probed;
          try { probed = await round(soloApp, vs, executorOf(soloApp), 0, PROBED); } finally {
            const floor = summarise(await probe.stop());
            rows.push({ name: `${NAMES.floor} of ${floor.n}`, value: `${ms(floor.p50)} / ${ms(floor.p99)}` });
          }
          rows.splice(rows.length - 1, 0, { name: NAMES.probed, value: `${ms(probed.recordP50)} / ${ms(probed.recordP99)}` });
        }
      } finally { await soloApp.stop(); }
    }
    return rows.filter((r) => wanted(r.name));
  } finally {
    await Promise.all(vs.map((v) => v.fake.stop()));
  }
}
