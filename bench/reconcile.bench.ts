/**
 * Futures reconciliation bench (issue 19): 1,000 open futures positions (100 keys × 10 perpetuals, half the
 * keys on FakeBinanceFutures, half on FakeBybitLinear, each position with a reduce-only SL and TP resting),
 * a fresh PostgreSQL database, real ccxt over HTTP. The fakes run in a child process (bench/reconcile-fakes.ts)
 * so process.cpuUsage() around one FuturesReconciler.poll() counts only this process: the claim, the key
 * decryption, 100 positions requests and 100 resting-order requests (one intact position per key) through ccxt,
 * and the comparison (target < 1 s of CPU per poll). A second
 * row: the same poll when 100 of the positions were closed by their take profit since the last one (each
 * then costs its lookups, the sibling's cancel, PnL and funding reads and one recording statement).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { InProcessBus } from '../src/bus/index.js';
import { createKeyThrottle, createVenueBudget } from '../src/exchange/index.js';
import { FuturesReconciler, type PollReport } from '../src/execution/index.js';
import { Keyring } from '../src/lib/crypto.js';
import { createLogger } from '../src/lib/logger.js';
import { createSubscriptions } from '../src/subscriptions/index.js';
import { verdict, type BenchRow } from './harness.js';
import { startFakes } from './fakes-process.js';
import { freshDatabase } from './support.js';

const KEYS = 100;
const MARKETS = Array.from({ length: 10 }, (_, i) => `P${i}`);

export default async function run(): Promise<BenchRow[]> {
  const fakes = await startFakes('reconcile-fakes.ts');
  const url = await freshDatabase('sm_bench_reconcile');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const log = createLogger('silent');
  const keyring = new Keyring(randomBytes(32));
  const keys = createSubscriptions({ prisma, keyring, bus: new InProcessBus(log) });
  const budget = createVenueBudget({ prefix: '', settings: { percent: 100, perVenue: { binanceusdm: 1e9, bybit: 1e9 }, otherPercent: 100, maxWaitMs: 0 } });
  const reconciler = new FuturesReconciler({ pool, keys, throttle: createKeyThrottle(undefined, `bench-${randomUUID()}`), budget, log },
    { intervalMs: 15_000, exchangeUrls: fakes.origins, exchangeTimeoutMs: 10_000, recvWindowMs: 5000, keysInParallel: 16 });
  try {
    const { rows: [strategy] } = await pool.query<{ id: string }>(`INSERT INTO "Strategy" (id, name) VALUES (gen_random_uuid(), 'reconcile bench') RETURNING id`);
    const subs: unknown[][] = [[], [], [], [], [], []];
    const pos: unknown[][] = [[], [], [], [], [], [], [], [], []];
    for (let k = 0; k < KEYS; k++) {
      const venue = k < KEYS / 2 ? 'binance' : 'bybit';
      const apiKey = `bench-${k}-${randomUUID()}`;
      const secret = randomUUID();
      const userId = randomUUID();
      const subId = randomUUID();
      [userId, subId, venue, keyring.encrypt(apiKey), keyring.encrypt(secret), `rc-${k}-${userId}@bench.local`].forEach((v, i) => subs[i]!.push(v));
      // P0: longs whose take profit (110) the second round fires; the others alternate long and short.
      const opened = MARKETS.map((market, m) => {
        const side = m % 2 === 1 ? 'short' as const : 'long' as const;
        return { market, side, qty: 1, sl: side === 'long' ? 90 : 110, tp: side === 'long' ? 110 : 90, slId: `s${k}x${m}${randomUUID().slice(0, 8)}`, tpId: `t${k}x${m}${randomUUID().slice(0, 8)}` };
      });
      const { entries } = await fakes.ask<{ entries: number[] }>({ cmd: 'open', venue, apiKey, secret, positions: opened });
      opened.forEach((o, m) => [randomUUID(), subId, `${o.market}/USDT`, o.side, String(o.qty), String(entries[m]), o.slId, o.tpId, strategy!.id].forEach((v, i) => pos[i]!.push(v)));
    }
    await pool.query(`INSERT INTO "User" (id, email, "passwordHash") SELECT u, e, 'x' FROM unnest($1::uuid[], $2::text[]) AS x(u, e)`, [subs[0], subs[5]]);
    await pool.query(
      `INSERT INTO "Subscription" (id, "userId", "strategyId", exchange, sizing, market, leverage, "apiKeyEnc", "apiSecretEnc", "hasKeys", "updatedAt")
       SELECT s, u, $6, x, '{"mode":"quote","amount":100}', 'futures', 10, k, sc, true, now() FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[]) AS t(u, s, x, k, sc)`,
      [subs[0], subs[1], subs[2], subs[3], subs[4], strategy!.id]);
    await pool.query(
      `INSERT INTO "Position" (id, "subscriptionId", "strategyId", pair, market, side, qty, "avgPrice", "slClientOrderId", "tpClientOrderId", leverage)
       SELECT id, s, st, p, 'futures', sd, q::numeric, a::numeric, sl, tp, 10 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::uuid[]) AS t(id, s, p, sd, q, a, sl, tp, st)`,
      pos);

    const measure = async (): Promise<{ cpuMs: number; wallMs: number; report: PollReport }> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const report = await reconciler.poll(0);
      const c = process.cpuUsage(c0);
      return { cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0, report };
    };
    const warm = await measure(); // market lists and leverage brackets loaded, ccxt paths compiled
    if (warm.report.ok !== KEYS * MARKETS.length) throw new Error(`warm-up poll: ${JSON.stringify(warm.report)}`);
    await fakes.ask({ cmd: 'requests' });
    const steady = [await measure(), await measure(), await measure()];
    const requests = await fakes.ask<{ positions: number; orders: number }>({ cmd: 'requests' });
    if (steady.some((s) => s.report.ok !== KEYS * MARKETS.length)) throw new Error(`steady poll: ${JSON.stringify(steady.map((s) => s.report))}`);
    await fakes.ask({ cmd: 'mark', market: 'P0', price: 111 });
    const fired = await measure();
    if (fired.report.closed !== KEYS) throw new Error(`take-profit poll: ${JSON.stringify(fired.report)}`);
    const worst = Math.max(...steady.map((s) => s.cpuMs));
    return [
      {
        name: `reconciliation of 1,000 open positions (100 keys, 50 on each futures fake, SL+TP resting): CPU per poll, worst of 3 (wall ${steady.map((s) => s.wallMs.toFixed(0)).join(' / ')} ms; ${requests.positions / steady.length} positions + ${requests.orders / steady.length} resting-order requests a poll; warm-up poll ${warm.cpuMs.toFixed(0)} ms CPU)`,
        value: `${worst.toFixed(0)} ms CPU (${steady.map((s) => s.cpuMs.toFixed(0)).join(' / ')})`, target: '< 1 s CPU', verdict: verdict(worst < 1000),
      },
      {
        name: `the same poll when 100 of them were closed by their take profit (looked up, sibling cancelled, PnL + funding read, recorded; wall ${fired.wallMs.toFixed(0)} ms)`,
        value: `${fired.cpuMs.toFixed(0)} ms CPU`, target: '< 1 s CPU', verdict: verdict(fired.cpuMs < 1000),
      },
    ];
  } finally {
    await reconciler.stop();
    await prisma.$disconnect();
    await pool.end().catch(() => {});
    fakes.stop();
  }
}
