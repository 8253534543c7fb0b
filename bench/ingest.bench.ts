/**
 * Ingest benchmarks (issue 2), on real PostgreSQL with 10,000 open trades in the JSON store:
 *  - at a sustained 100 signals/s for 10 s (client-measured, HTTP included): webhook → answer (DB committed), and
 *    webhook → the JSON store flush that holds the signal is durable (the answer does not wait for it);
 *  - a burst: BURST webhooks sent at the same instant (many strategies' alerts at a candle close), time until
 *    the last is answered (TradingView gives up after 3 s) and how many accept transactions carried them;
 *  - JSON store write cost: one apply() (active.json + metadata.json rewritten, fsynced) with 10,000 open trades,
 *    beside the disk's floor for the same bytes (one durable atomic rewrite, nothing else);
 *  - webhook → JSON store durable again on a new store (no open trades before the run): what the flush size costs.
 */
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import path from 'node:path';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { writeFileDurable } from '../src/lib/atomic-file.js';
import { createLogger } from '../src/lib/logger.js';
import { SignalJsonStore, SignalLog, SignalReader } from '../src/signals/index.js';
import type { SignalEffect } from '../src/signals/index.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase, preloadActiveTrades } from './support.js';

const RATE = 100;
const SECONDS = 10;
const ACTIVE = 10_000;
/** Seconds at the same rate before measuring (a cold process is not the steady state the target is for). */
const WARMUP = 3;
const BURST = 500;

async function post(url: string, body: unknown, token?: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}

async function ingestLatency(dbUrl: string, preloaded: number): Promise<BenchRow[]> {
  const config = loadConfig({
    DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-')),
    JWT_SECRET: 'b'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'silent',
    ROLES: process.env.BENCH_ROLES ?? 'api,store', WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
  });
  const app = await buildApp(config, { log: createLogger('silent') });
  try {
    const reg = await post(`${app.url}/api/auth/register`, { email: `bench-${Date.now()}@x.io`, password: 'benchmark-pass', role: 'AUTHOR' });
    const strat = await post(`${app.url}/api/strategies`, { name: 'bench' }, reg.body.token);
    const hook = `${app.url}/api/webhooks/tradingview/${strat.body.id}`;
    const durable: { seq: number; at: number }[] = [];
    app.store?.onDurable((seq) => durable.push({ seq, at: performance.timeOrigin + performance.now() }));
    const total = RATE * SECONDS;
    const args = JSON.stringify({ hook, secret: strat.body.webhookSecret, rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP });
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-client.ts', import.meta.url)), args], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as { results: { seq: number; start: number; end: number; status: number }[]; seconds: number };
    await app.store?.flush();
    const burst = preloaded ? await burstRow(app, hook, strat.body.webhookSecret) : undefined;
    const activeMb = statSync(path.join(config.dataDir, 'signals', 'active.json')).size / 1e6;
    const ok = out.results.filter((r) => r.status === 202);
    const errors = total - ok.length;
    const samples = ok.map((r) => r.end - r.start);
    // A signal is durable in the JSON store at the first flush whose lastSeq covers it.
    const jsonSamples = ok.map((r) => (durable.find((d) => d.seq >= r.seq)?.at ?? Infinity) - r.start);
    const rate = total / out.seconds;
    const s = summarise(samples);
    const j = summarise(jsonSamples);
    const open = preloaded ? `${preloaded.toLocaleString('en')} open trades` : `a new store: no open trades before the run, ${ok.length.toLocaleString('en')} after`;
    return [
      { name: `ingest latency p50, webhook → DB committed, answered (${RATE}/s for ${SECONDS}s after ${WARMUP}s warm-up, ${open})`, value: ms(s.p50) },
      { name: `ingest latency p99, webhook → DB committed, answered (same run; ${rate.toFixed(0)}/s achieved, ${errors} errors)`, value: ms(s.p99), target: '< 20 ms', verdict: verdict(s.p99 < 20 && errors === 0) },
      { name: `ingest latency p50, webhook → DB + JSON store durable (same run, ${open}, active.json ${activeMb.toFixed(1)} MB at the end)`, value: ms(j.p50) },
      { name: `ingest latency p99, webhook → DB + JSON store durable (same run; n=${j.n})`, value: ms(j.p99), target: '< 20 ms', verdict: verdict(j.p99 < 20 && j.n === total) },
      ...(burst ? [burst] : []),
    ];
  } finally { await app.stop(); }
}

/** BURST webhooks at once, on the same app (group commit decides how many transactions they take). */
async function burstRow(app: App, hook: string, secret: string): Promise<BenchRow> {
  const batches = async () => ((await app.metrics.acceptBatchSize.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0);
  const before = await batches();
  const args = JSON.stringify({ hook, secret, rate: 0, seconds: 0, burst: BURST });
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-client.ts', import.meta.url)), args], { maxBuffer: 64 << 20 });
  const out = JSON.parse(stdout) as { results: { start: number; end: number; status: number }[] };
  const ok = out.results.filter((r) => r.status === 202).length;
  const first = Math.min(...out.results.map((r) => r.start));
  const last = Math.max(...out.results.map((r) => r.end)) - first;
  const s = summarise(out.results.map((r) => r.end - r.start));
  const tx = (await batches()) - before;
  return { name: `burst: ${BURST} webhooks at once (a candle close), last answered (p50 ${ms(s.p50)}; ${ok} accepted in ${tx} transactions)`, value: ms(last), target: '< 3 s (TradingView timeout)', verdict: verdict(last < 3000 && ok === BURST) };
}

async function storeWriteCost(dbUrl: string): Promise<BenchRow[]> {
  const { openDatabase } = await import('../src/db/index.js');
  const log = createLogger('silent');
  const db = await openDatabase({ databaseUrl: dbUrl, dataDir: os.tmpdir(), poolMax: 2, migrate: false, log });
  let bytes = 0;
  const store = new SignalJsonStore({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'sm-store-')), reader: new SignalReader(db.prisma), signalLog: new SignalLog(db.pool), log, metrics: { writeSeconds: (_s, b) => { bytes = b; } } });
  try {
    await store.start();
    const active = store.metadata().counts.active;
    const samples: number[] = [];
    for (let i = 0; i < 300; i++) {
      const seq = store.metadata().lastSeq + 1;
      const id = crypto.randomUUID();
      const now = new Date().toISOString();
      const effect: SignalEffect = {
        signal: { id, seq, strategyId: id, pair: `W${i}/USDT`, action: 'OPEN', direction: 'LONG', price: 1, stopLoss: null, takeProfit: null, note: null, source: 'api', idempotencyKey: null, evidence: null, reason: null, prevHash: null, hash: 'h', createdAt: now },
        opened: { id, strategyId: id, pair: `W${i}/USDT`, direction: 'LONG', entryPrice: 1, stopLoss: null, takeProfit: null, openSignalId: id, openSeq: seq, openedAt: now },
      };
      const t0 = performance.now();
      await store.apply(effect);
      samples.push(performance.now() - t0);
    }
    const s = summarise(samples);
    // The disk's floor for the same bytes: one durable atomic rewrite (temp file, fsync, rename, directory
    // fsync) of a file as large as one flush, with nothing else of ours around it.
    const floorDir = mkdtempSync(path.join(os.tmpdir(), 'sm-floor-'));
    const blob = Buffer.alloc(bytes, 0x61);
    const floor: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      await writeFileDurable(path.join(floorDir, 'active.json'), blob);
      floor.push(performance.now() - t0);
    }
    const f = summarise(floor);
    return [
      { name: `disk floor: one atomic durable rewrite of ${(bytes / 1e6).toFixed(1)} MB (temp file, fsync, rename, directory fsync; nothing else), p50 / p99 of 100`, value: `${ms(f.p50)} / ${ms(f.p99)}` },
      { name: `JSON store write p50 (one signal: active.json + metadata.json fsynced; ${active.toLocaleString('en')} open trades, ${(bytes / 1e6).toFixed(1)} MB per flush)`, value: ms(s.p50) },
      { name: 'JSON store write p99 (same run, 300 sequential writes)', value: ms(s.p99), target: '< 25 ms', verdict: verdict(s.p99 < 25) },
    ];
  } finally { await store.stop(); await db.stop(); }
}

export default async function run(): Promise<BenchRow[]> {
  const url = await freshDatabase('signal_marketplace_bench_ingest');
  await preloadActiveTrades(url, ACTIVE);
  const rows = [...await ingestLatency(url, ACTIVE), ...await storeWriteCost(url)];
  // The same run on a new store: what the flush size costs (the target's machine floor is the 10,000-trade case above).
  const small = await ingestLatency(await freshDatabase('signal_marketplace_bench_ingest_small'), 0);
  rows.push(...small.filter((r) => r.name.includes('JSON store durable')).map(({ name, value }) => ({ name, value })));
  return rows;
}
