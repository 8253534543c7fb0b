/**
 * Executor benchmark: one signal to 1,000 subscriptions (each its own API key) in live mode against
 * the fake Binance (real ccxt over HTTP, a fresh PostgreSQL database). Measures the time from accepting the signal
 * until the fake exchange holds all 1,000 orders, at 0 ms and 50 ms exchange latency, and our own
 * overhead per order (job time minus time spent in exchange calls), p99.
 */
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import type { SubscriptionExecutor } from '../src/execution/index.js';
import { startTestApp } from '../test/support/app.js';
import { FakeBinance } from '../test/support/fake-exchange.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const SUBS = 1000;

async function seed(app: App, fake: FakeBinance): Promise<{ strategyId: string; apiKeys: string[] }> {
  const prisma = app.db.prisma;
  const user = await prisma.user.create({ data: { email: `bench-${randomUUID()}@bench.local`, passwordHash: 'x' } });
  const strategy = await prisma.strategy.create({ data: { name: `bench ${randomUUID().slice(0, 6)}` } });
  const keys = Array.from({ length: SUBS }, () => ({ apiKey: `bench-${randomUUID()}`, secret: `s-${randomUUID()}` }));
  for (const k of keys) fake.addAccount(k.apiKey, k.secret, { USDT: 1000 });
  await prisma.subscription.createMany({
    data: keys.map((k) => ({
      userId: user.id, strategyId: strategy.id, exchange: 'binance', sizing: { mode: 'quote', amount: 50 },
      apiKeyEnc: app.keyring.encrypt(k.apiKey), apiSecretEnc: app.keyring.encrypt(k.secret), apiKeyMasked: 'x…x', hasKeys: true,
    })),
  });
  return { strategyId: strategy.id, apiKeys: keys.map((k) => k.apiKey) };
}

async function round(app: App, fake: FakeBinance, executor: SubscriptionExecutor, latencyMs: number): Promise<{ seconds: number; p99: number }> {
  const { strategyId, apiKeys } = await seed(app, fake);
  // Poll counters, not fake.orders(): snapshotting every order every 5 ms burned more CPU in this
  // (shared) process than the executor under test. The request counter is a cheap lower bound on the
  // time; once it reaches SUBS, the exact per-account count decides.
  const posts = () => fake.requestCount('/api/v3/order', 'POST');
  const postsBefore = posts();
  const accepted = () => { if (posts() - postsBefore < SUBS) return 0; const s = fake.stats().ordersAccepted; let n = 0; for (const k of apiKeys) n += s[k] ?? 0; return n; };
  fake.clearFaults();
  if (latencyMs) fake.injectFault({ kind: 'latency', ms: latencyMs }, { path: '/api/v3/order', method: 'POST' });
  executor.metrics.overheadSamples.length = 0;
  const t0 = performance.now();
  await app.coordinator.accept({ strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, 'api');
  while (accepted() < SUBS && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  const placed = apiKeys.filter((k) => fake.orders(k).length === 1).length;
  if (placed !== SUBS) throw new Error(`only ${placed} of ${SUBS} subscriptions have exactly one order`);
  await new Promise((r) => setTimeout(r, 300)); // let the last rows be recorded
  return { seconds, p99: summarise(executor.metrics.overheadSamples).p99 };
}

export default async function bench(): Promise<BenchRow[]> {
  const fake = new FakeBinance({ duplicateClientIdMode: 'strict', weightLimitPerMinute: 1_000_000 });
  const origin = await fake.start();
  const app = await startTestApp({ DATABASE_URL: await freshDatabase('sm_bench_executor'), ROLES: 'executor', TRADING_MODE: 'live', EXCHANGE_URL_BINANCE: origin, EXECUTOR_CONCURRENCY: '64', DB_POOL_MAX: '20' });
  try {
    const executor = (app.components.find((c) => c.name === 'executor') as unknown as { executor: SubscriptionExecutor }).executor;
    const fast = await round(app, fake, executor, 0);
    const slow = await round(app, fake, executor, 50);
    const p99 = Math.max(fast.p99, slow.p99);
    return [
      { name: `executor: 1 signal → ${SUBS} subscriptions, all orders on the exchange (latency 0 ms)`, value: `${fast.seconds.toFixed(2)} s`, target: '< 3 s', verdict: verdict(fast.seconds < 3) },
      { name: `executor: 1 signal → ${SUBS} subscriptions, all orders on the exchange (latency 50 ms)`, value: `${slow.seconds.toFixed(2)} s`, target: '< 5 s', verdict: verdict(slow.seconds < 5) },
      { name: 'executor: own overhead per order (job time minus exchange calls), p99', value: ms(p99), target: '< 5 ms', verdict: verdict(p99 < 5) },
    ];
  } finally {
    await app.stop();
    await fake.stop();
  }
}
