/**
 * JSON store across processes (issue 17): a webhook accepted by sm-api → the signal durable in the JSON store
 * held by another process (the PM2 layout: ROLES=api and ROLES=store, joined by PostgreSQL and the Redis
 * bus), beside the single-process layout (`npm start`: api and store in one process) for reference.
 * The single-process layout uses the in-process bus, as `npm start` does. Both layouts run as child processes (`node --import tsx src/main.ts`); this process only posts and watches.
 * "Durable" is metadata.json showing the signal's seq: the store writes and fsyncs every data file, renames
 * them into place, then metadata.json last. The watcher is inotify on data/signals (fs.watch) plus a 2 ms poll.
 * The store's safety-net poll is set to 60 s, so what is measured is the bus path. Load: RATE webhooks/s
 * (OPEN then CLOSE on fresh pairs) for SECONDS after a warm-up, sent without waiting for the answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const RATE = Number(process.env.BENCH_STORE_RATE ?? 40);
const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 10);
const WARMUP = 2;
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const now = () => performance.timeOrigin + performance.now();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function server(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SECRET: 'b'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '1000', ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
    try { if ((await fetch(`${url}/health`)).ok) return { url, child }; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become healthy');
}

const stop = (c: ChildProcess) => new Promise<void>((resolve) => { if (c.exitCode !== null) return resolve(); c.once('exit', () => resolve()); c.kill('SIGTERM'); });

/** Calls `seen(lastSeq, at)` whenever metadata.json moves forward. */
function watchStore(dataDir: string, seen: (lastSeq: number, at: number) => void): () => void {
  const dir = path.join(dataDir, 'signals');
  let last = 0;
  let reading = false;
  let again = false;
  const check = async () => {
    if (reading) { again = true; return; }
    reading = true;
    do {
      again = false;
      const at = now();
      try {
        const seq = (JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as { lastSeq: number }).lastSeq;
        if (seq > last) { last = seq; seen(seq, at); }
      } catch { /* between writes */ }
    } while (again);
    reading = false;
  };
  const w = watch(dir, () => { void check(); });
  const t = setInterval(() => { void check(); }, 2);
  return () => { w.close(); clearInterval(t); };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Runs the load against `apiUrl` and returns, per reported signal, the ms from its 202 to metadata.json covering it. */
async function measure(apiUrl: string, dataDir: string): Promise<{ samples: number[]; errors: number; durableMissing: number }> {
  const reg = await post(`${apiUrl}/api/auth/register`, { email: `bench-${randomUUID().slice(0, 8)}@x.io`, password: 'benchmark-pass', role: 'AUTHOR' });
  const strat = await post(`${apiUrl}/api/strategies`, { name: 'bench store' }, reg.body.token);
  const hook = `${apiUrl}/api/webhooks/tradingview/${strat.body.id}`;
  const secret = strat.body.webhookSecret as string;
  const durable: { seq: number; at: number }[] = [];
  const unwatch = watchStore(dataDir, (seq, at) => durable.push({ seq, at }));
  const answered: { seq: number; at: number }[] = [];
  let errors = 0;
  const warm = RATE * WARMUP;
  const total = RATE * SECONDS + warm;
  const pending: Promise<void>[] = [];
  const begin = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = begin + (i * 1000) / RATE - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const pair = `S${Math.floor(i / 2)}/USDT`;
    const body = i % 2 ? { pair, action: 'CLOSE', price: 101, secret } : { pair, action: 'OPEN', direction: 'LONG', price: 100, secret };
    pending.push(post(hook, body).then((r) => {
      if (r.status !== 202) { errors++; return; }
      if (i >= warm) answered.push({ seq: r.body.seq as number, at: now() });
    }, () => { errors++; }));
  }
  await Promise.all(pending);
  const top = Math.max(...answered.map((a) => a.seq));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline && !durable.some((d) => d.seq >= top);) await new Promise((r) => setTimeout(r, 20));
  unwatch();
  let durableMissing = 0;
  const samples = answered.flatMap((a) => {
    const d = durable.find((x) => x.seq >= a.seq);
    if (!d) { durableMissing++; return []; }
    return [Math.max(0, d.at - a.at)];
  });
  return { samples, errors, durableMissing };
}

async function layout(dbUrl: string, split: boolean) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sm-bench-store-'));
  const shared = { DATABASE_URL: dbUrl, REDIS_URL: REDIS, REDIS_PREFIX: `smbench:${randomUUID().slice(0, 8)}:`, STORE_POLL_MS: '60000' };
  const procs: ChildProcess[] = [];
  try {
    let apiUrl: string;
    if (split) {
      const store = await server({ ...shared, ROLES: 'store', DATA_DIR: dataDir });
      procs.push(store.child);
      const api = await server({ ...shared, ROLES: 'api', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-api-')) });
      procs.push(api.child);
      apiUrl = api.url;
    } else {
      // As under `npm start`: one process, the in-process bus (no Redis).
      const one = await server({ DATABASE_URL: dbUrl, STORE_POLL_MS: '60000', ROLES: 'api,store', DATA_DIR: dataDir });
      procs.push(one.child);
      apiUrl = one.url;
    }
    return await measure(apiUrl, dataDir);
  } finally { await Promise.all(procs.map(stop)); }
}

export default async function run(): Promise<BenchRow[]> {
  const url = await freshDatabase('signal_marketplace_bench_store_follow');
  const split = await layout(url, true);
  const single = await layout(url, false);
  const s = summarise(split.samples);
  const one = summarise(single.samples);
  const ok = (r: typeof split) => r.errors === 0 && r.durableMissing === 0;
  const load = `${RATE}/s for ${SECONDS}s after ${WARMUP}s warm-up, OPEN/CLOSE webhooks; store poll 60 s`;
  return [
    { name: `accepted on sm-api → durable in the store on another process (ROLES=api / ROLES=store, Redis bus), p50 (${load}; n=${s.n})`, value: ms(s.p50) },
    { name: `accepted on sm-api → durable in the store on another process, p99 (same run; ${split.errors} errors, ${split.durableMissing} never durable)`, value: ms(s.p99), target: '< 25 ms', verdict: verdict(s.p99 < 25 && ok(split)) },
    { name: `the same in one process (ROLES=api,store, in-process bus, as under npm start), p50 / p99 (${load}; n=${one.n}, ${single.errors} errors, ${single.durableMissing} never durable)`, value: `${ms(one.p50)} / ${ms(one.p99)}`, verdict: ok(single) ? '' : 'FAIL' },
  ];
}
