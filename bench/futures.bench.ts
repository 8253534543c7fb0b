/**
 * Futures executor benchmark: one OPEN signal with a stop-loss and a take-profit to 1,000 futures subscriptions
 * (each its own API key; 500 on FakeBinanceFutures, 500 on FakeBybitLinear) in live mode, real ccxt over HTTP,
 * a fresh PostgreSQL database. The fakes run in a child process (bench/futures-fakes.ts): the executor's event
 * loop and CPU are its own. Measures the time from accepting the signal until the fakes hold every entry and
 * both reduce-only protective orders of every subscription (0 ms exchange latency), and our own overhead per
 * job (job time minus time spent in exchange calls; a job is the settings check, the entry and two protective
 * orders), p99, one job at a time. Per new key a job also sets margin mode and leverage and reads the position
 * mode (cached per key and symbol afterwards); Bybit answers a create without its fill, so the entry is looked
 * up once more. Each app first serves a warm-up signal (market lists loaded, code paths compiled).
 * `npx tsx bench/run.ts futures`.
 */
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import type { SubscriptionExecutor } from '../src/execution/index.js';
import { startTestApp } from '../test/support/app.js';
import { startFakes } from './fakes-process.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const SUBS = 1000;
const SOLO = 300;
const WARM_UP = 30;
const VENUES = ['binance', 'bybit'] as const;

type Fakes = Awaited<ReturnType<typeof startFakes>>;
let rounds = 0;

async function seed(app: App, fakes: Fakes, n: number): Promise<{ strategyId: string; round: number }> {
  const prisma = app.db.prisma;
  const round = ++rounds;
  const strategy = await prisma.strategy.create({ data: { name: `fbench ${randomUUID().slice(0, 6)}` } });
  const keys = Array.from({ length: n }, (_, i) => ({ venue: VENUES[i % VENUES.length]!, apiKey: `fbench-${randomUUID()}`, secret: `s-${randomUUID()}`, userId: randomUUID() }));
  for (const venue of VENUES) await fakes.ask({ cmd: 'accounts', round, venue, keys: keys.filter((k) => k.venue === venue).map(({ apiKey, secret }) => ({ apiKey, secret })) });
  await prisma.user.createMany({ data: keys.map((k) => ({ id: k.userId, email: `fbench-${k.userId}@bench.local`, passwordHash: 'x' })) });
  await prisma.subscription.createMany({
    data: keys.map((k) => ({
      userId: k.userId, strategyId: strategy.id, exchange: k.venue, market: 'futures', leverage: 5, sizing: { mode: 'quote', amount: 50 },
      apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
    })),
  });
  return { strategyId: strategy.id, round };
}

async function round(app: App, fakes: Fakes, executor: SubscriptionExecutor, n: number, again?: { strategyId: string; round: number }): Promise<{ seconds: number; p50: number; p99: number; preSendP99: number; recordP50: number; recordP99: number; strategyId: string; round: number }> {
  // `again`: the same subscriptions once more (their positions closed first): keys whose leverage, margin mode
  // and position mode are known, as for a running service's subscribers.
  const { strategyId, round: id } = again ?? await seed(app, fakes, n);
  const orders = again ? 3 : 1;
  // Create requests are a cheap lower bound (three per subscription); once they are all in, the accounts decide.
  const posts = async () => (await fakes.ask<{ posts: number }>({ cmd: 'posts' })).posts;
  const before = await posts();
  for (const a of [executor.metrics.overheadSamples, executor.metrics.preSendSamples, executor.metrics.recordSamples]) a.length = 0;
  const t0 = performance.now();
  await app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, stopLoss: 2800, takeProfit: 3300 }, 'api');
  let done = 0;
  while (performance.now() - t0 < 60_000) {
    if ((await posts()) - before >= 3 * n) done = (await fakes.ask<{ done: number }>({ cmd: 'complete', round: id, orders })).done;
    if (done === n) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - t0) / 1000;
  if (done < n) {
    const outcomes = await app.db.prisma.executionLog.groupBy({ by: ['status', 'error'], where: { signal: { strategyId } }, _count: true });
    throw new Error(`${n - done} of ${n} subscriptions lack an entry, SL or TP after ${seconds.toFixed(1)} s (${outcomes.map((o) => `${o._count} ${o.status} ${o.error?.slice(0, 120) ?? ''}`).join('; ')})`);
  }
  await new Promise((r) => setTimeout(r, 1500)); // the last rows are recorded
  const o = summarise(executor.metrics.overheadSamples);
  const rec = summarise(executor.metrics.recordSamples);
  return { seconds, p50: o.p50, p99: o.p99, preSendP99: summarise(executor.metrics.preSendSamples).p99, recordP50: rec.p50, recordP99: rec.p99, strategyId, round: id };
}

/** Closes the round's positions (a CLOSE signal) and waits until every row of it is final. */
async function closeAll(app: App, strategyId: string, n: number): Promise<void> {
  const { signal } = await app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'CLOSE', direction: 'LONG', price: 3000 }, 'api');
  const t0 = performance.now();
  while (await app.db.prisma.executionLog.count({ where: { signalId: signal.id, status: { not: 'PENDING' } } }) < n) {
    if (performance.now() - t0 > 120_000) throw new Error('the CLOSE round did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const executorOf = (app: App) => (app.components.find((c) => c.name === 'executor') as unknown as { executor: SubscriptionExecutor }).executor;

export default async function bench(): Promise<BenchRow[]> {
  const fakes = await startFakes('futures-fakes.ts');
  const urls = { EXCHANGE_URL_BINANCE: fakes.origins.binance, EXCHANGE_URL_BYBIT: fakes.origins.bybit };
  // The venue budget defaults to ccxt's per-client pace; the fakes have no IP limit and this bench measures the executor.
  // Budgets are per ccxt class: Binance futures spend binanceusdm's, Bybit linear bybit's.
  const budgets = { EXCHANGE_BUDGET_PER_MINUTE_BINANCEUSDM: '1000000', EXCHANGE_BUDGET_PER_MINUTE_BYBIT: '1000000' };
  const env = { DATABASE_URL: await freshDatabase('sm_bench_futures'), ROLES: 'executor', TRADING_MODE: 'live', ...urls, ...budgets, DB_POOL_MAX: '20' };
  const rows: BenchRow[] = [];
  try {
    const app = await startTestApp({ ...env, EXECUTOR_CONCURRENCY: '64' });
    try {
      await round(app, fakes, executorOf(app), WARM_UP);
      const fast = await round(app, fakes, executorOf(app), SUBS);
      rows.push({ name: `futures executor: 1 signal → ${SUBS} futures subscriptions (500 Binance USDⓈ-M, 500 Bybit linear), every entry + SL + TP on the exchanges (latency 0 ms)`, value: `${fast.seconds.toFixed(2)} s`, target: '< 5 s', verdict: verdict(fast.seconds < 5) });
      rows.push({ name: 'futures executor: the same at 64 jobs in flight, own overhead per job (includes waiting for the event loop shared by the 64 jobs), p99', value: ms(fast.p99) });
      await closeAll(app, fast.strategyId, SUBS);
      const warm = await round(app, fakes, executorOf(app), SUBS, fast);
      rows.push({ name: `futures executor: a second OPEN to the same ${SUBS} subscriptions after their CLOSE (leverage, margin and position mode known: entry + SL + TP, free margin, fill/fee read)`, value: `${warm.seconds.toFixed(2)} s`, target: '< 5 s', verdict: verdict(warm.seconds < 5) });
    } finally { await app.stop(); }
    const solo = await startTestApp({ ...env, EXECUTOR_CONCURRENCY: '1' });
    try {
      await round(solo, fakes, executorOf(solo), WARM_UP);
      const one = await round(solo, fakes, executorOf(solo), SOLO);
      rows.push({ name: `futures executor: own overhead per job (job time minus exchange calls; entry + SL + TP), p50 / p99, one job at a time (${SOLO} jobs)`, value: `${ms(one.p50)} / ${ms(one.p99)}`, target: '< 5 ms per order (p99 / 3)', verdict: verdict(one.p99 / 3 < 5) });
      rows.push({ name: 'futures executor: of which, recording the final status and position (one durable commit), p50 / p99, same run', value: `${ms(one.recordP50)} / ${ms(one.recordP99)}` });
      rows.push({ name: 'futures executor: of which, job start → first request leaves (keys, rules), p99, same run', value: ms(one.preSendP99) });
    } finally { await solo.stop(); }
    return rows;
  } finally {
    fakes.stop();
  }
}
