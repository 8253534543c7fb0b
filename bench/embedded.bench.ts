/**
 * Embedded database vs real PostgreSQL (issue 16): the same app (roles api,executor,store, as `npm start`
 * runs minus the browser and the exchange poller) with 2,000 WebSocket clients subscribed to one strategy;
 * a TradingView webhook is posted and the time until the LAST client has the signal is measured (p50/p99
 * over SIGNALS webhooks, GAP_MS apart). Target: embedded p99 ≤ 1.5× real PostgreSQL's — PGlite runs in a
 * worker thread, so its WebAssembly work does not stall the event loop that fans signals out.
 * The clients are bench/fanout.bench.ts's child process (lean clients, their own process).
 * Also reported: the main event loop's delay p99/max during each run (monitorEventLoopDelay), and its longest
 * stall while the database runs a 1 s query (SELECT pg_sleep(1)).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const CLIENTS = Number(process.env.EMBEDDED_BENCH_CLIENTS ?? 2000);
const SIGNALS = Number(process.env.EMBEDDED_BENCH_SIGNALS ?? 100);
const GAP_MS = 200;
const FANOUT_CLIENT = fileURLToPath(new URL('./fanout.bench.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** Starts a 5 ms interval; stop() returns the longest time between two of its ticks (ms). */
function tickGaps() {
  let last = performance.now();
  let max = 0;
  const iv = setInterval(() => { const t = performance.now(); max = Math.max(max, t - last); last = t; }, 5);
  return { stop() { clearInterval(iv); return max; } };
}

type FromChild = { ready: number } | { seq: number; t: number; first: number } | { closed: true };

/** The fan-out bench's client process; deliveries are kept by seq (a delivery may beat the HTTP answer). */
class ClientProcess {
  private readonly child: ChildProcess;
  private next?: (m: FromChild) => void;
  private readonly seen = new Map<number, number>();
  private readonly waiters = new Map<number, (t: number) => void>();
  constructor() {
    this.child = fork(FANOUT_CLIENT, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, FANOUT_CHILD: '1' }, stdio: 'inherit' });
    this.child.on('message', (m: FromChild) => {
      if (!('seq' in m)) return this.next?.(m);
      const w = this.waiters.get(m.seq);
      if (w) { this.waiters.delete(m.seq); w(m.t); } else this.seen.set(m.seq, m.t);
    });
  }
  ask(msg: unknown) { return new Promise<FromChild>((resolve) => { this.next = resolve; this.child.send(msg as object); }); }
  /** When the last client had `seq`. */
  delivered(seq: number, timeoutMs = 30_000): Promise<number> {
    const t = this.seen.get(seq);
    if (t !== undefined) { this.seen.delete(seq); return Promise.resolve(t); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`seq ${seq} not delivered to every client`)), timeoutMs);
      this.waiters.set(seq, (v) => { clearTimeout(timer); resolve(v); });
    });
  }
  kill() { this.child.kill(); }
}

async function seed(app: App) {
  const api = (p: string, body: unknown, token?: string) => fetch(app.url + p, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
  const author = await api('/api/auth/register', { email: `author-${randomUUID()}@bench.local`, password: 'bench password 1', role: 'AUTHOR' });
  const strat = await api('/api/strategies', { name: 'embedded bench' }, author.body.token);
  if (strat.status !== 201) throw new Error(`strategy: ${strat.status} ${JSON.stringify(strat.body)}`);
  const users = Array.from({ length: CLIENTS }, () => ({ id: randomUUID(), email: `embedded-${randomUUID()}@bench.local`, passwordHash: 'x' }));
  await app.db.prisma.user.createMany({ data: users });
  await app.db.prisma.subscription.createMany({ data: users.map((u) => ({ userId: u.id, strategyId: strat.body.id, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 10 } })) });
  return { hook: `${app.url}/api/webhooks/tradingview/${strat.body.id}`, secret: strat.body.webhookSecret as string, tokens: users.map((u) => app.tokens.sign({ id: u.id, role: 'USER' })) };
}

/** One app (embedded when `databaseUrl` is undefined): webhook → last of CLIENTS clients, and event-loop delay. */
async function run(label: string, databaseUrl: string | undefined) {
  const config = loadConfig({
    DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-embedded-')),
    JWT_SECRET: 'e'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'), LOG_LEVEL: 'silent',
    ROLES: 'api,executor,store', TRADING_MODE: 'paper', WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
  });
  const app = await buildApp(config, { log: createLogger('silent') });
  const clients = new ClientProcess();
  try {
    const { hook, secret, tokens } = await seed(app);
    await clients.ask({ cmd: 'connect', kind: 'ours', url: app.url.replace('http', 'ws') + '/ws/signals', tokens });
    const post = async (i: number) => {
      const t0 = now();
      const r = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': secret },
        body: JSON.stringify({ pair: 'BTC/USDT', action: i % 2 ? 'CLOSE' : 'OPEN', direction: 'LONG', price: 64000 + i, idempotencyKey: randomUUID() }) });
      const body = await r.json() as { seq?: number; signals?: { seq: number }[] };
      if (r.status >= 300) throw new Error(`${label} webhook: ${r.status} ${JSON.stringify(body)}`);
      const seq = Number(body.seq ?? body.signals?.at(-1)?.seq);
      return (await clients.delivered(seq)) - t0;
    };
    for (let i = 0; i < 6; i++) { await post(i); await sleep(GAP_MS); } // warm-up
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const lat: number[] = [];
    for (let i = 0; i < SIGNALS; i++) { lat.push(await post(i)); await sleep(GAP_MS); }
    loop.disable();
    await clients.ask({ cmd: 'disconnect' });
    // A slow query (1 s): how long does it hold the main event loop? (PGlite on the main thread: all of it.)
    // (The longest gap between 5 ms timer ticks: monitorEventLoopDelay can miss one long stall entirely.)
    const slow = tickGaps();
    await app.db.pool.query('SELECT pg_sleep(1)');
    await sleep(50);
    return { lat: summarise(lat), loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, slowMax: slow.stop() };
  } finally {
    clients.kill();
    await app.stop();
  }
}

export default async function embeddedBench(): Promise<BenchRow[]> {
  const real = await run('PostgreSQL', await freshDatabase('sm_bench_embedded'));
  const embedded = await run('embedded', undefined);
  const n = CLIENTS.toLocaleString('en');
  const how = `${SIGNALS} webhooks ${GAP_MS} ms apart, roles api,executor,store`;
  return [
    { name: `webhook → last of ${n} WebSocket clients, real PostgreSQL: p50 / p99 (${how})`, value: `${ms(real.lat.p50)} / ${ms(real.lat.p99)}` },
    { name: `webhook → last of ${n} WebSocket clients, embedded PGlite (worker thread): p50 / p99 (same)`, value: `${ms(embedded.lat.p50)} / ${ms(embedded.lat.p99)}` },
    { name: `embedded p99 / real PostgreSQL p99 (webhook → last of ${n} clients)`, value: `${(embedded.lat.p99 / real.lat.p99).toFixed(2)}×`, target: '≤ 1.5×', verdict: verdict(embedded.lat.p99 <= 1.5 * real.lat.p99) },
    { name: 'main event loop delay during the run, p99 / max: real PostgreSQL | embedded', value: `${ms(real.loopP99)} / ${ms(real.loopMax)} | ${ms(embedded.loopP99)} / ${ms(embedded.loopMax)}` },
    { name: 'main event loop stalled by a 1 s query (SELECT pg_sleep(1)), max delay: real PostgreSQL | embedded', value: `${ms(real.slowMax)} | ${ms(embedded.slowMax)}`, target: 'embedded < 250 ms', verdict: verdict(embedded.slowMax < 250) },
  ];
}
