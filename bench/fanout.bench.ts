/**
 * Fan-out benchmarks (issue 4): N connected clients (1,000 and 5,000), one signal → time until the
 * last client has it (p50/p99 over 100 signals), and sustained signals/s with 8 signals in flight.
 * Three servers on the same clients, one at a time: our /ws/signals distributor (auth, subscription
 * index, sequencer, bounded buffers; signals enter through the bus as the coordinator publishes them),
 * a plain `ws` broadcast loop (serialise once, send to every client, no matching) and Socket.IO's
 * `io.emit`. Clients live in a child process (this file with FANOUT_CHILD=1) so the server's event
 * loop is measured alone; both processes stamp times with performance.timeOrigin + now().
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server as SocketIOServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import WebSocket, { WebSocketServer } from 'ws';
import { buildApp, type App } from '../src/app.js';
import { TOPICS } from '../src/bus/index.js';
import { loadConfig } from '../src/config/index.js';
import type { SignalDistributor } from '../src/distribution/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { Signal } from '../src/signals/index.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const SIZES = (process.env.FANOUT_SIZES ?? '1000,5000').split(',').map(Number);
const LATENCY_SIGNALS = 100;
const WINDOW = 8;
const now = () => performance.timeOrigin + performance.now();
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

type Kind = 'ours' | 'ws' | 'sio';
type ToChild = { cmd: 'connect'; kind: Kind; url: string; tokens: string[] } | { cmd: 'disconnect' };
type FromChild = { ready: number } | { seq: number; t: number } | { closed: true };

// ─── client process ────────────────────────────────────────────────────────────────────────────
if (process.env.FANOUT_CHILD) runClients();

function runClients(): void {
  let closers: (() => void)[] = [];
  let n = 0;
  const counts = new Map<number, number>();
  const got = (seq: number) => {
    const c = (counts.get(seq) ?? 0) + 1;
    if (c === n) { counts.delete(seq); process.send!({ seq, t: now() }); } else counts.set(seq, c);
  };
  // Frames are `{"type":"SIGNAL","seq":N,...`: read N without parsing the whole message (same for ours and plain ws).
  const onFrame = (data: Buffer) => {
    if (data[9] !== 0x53 /* S */) return;
    got(parseInt(data.toString('latin1', 23, 40), 10));
  };
  const connectOne = (kind: Kind, url: string, token: string) => new Promise<void>((resolve, reject) => {
    if (kind === 'sio') {
      const s = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      s.on('m', (m: { seq: number }) => got(m.seq));
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
      closers.push(() => s.disconnect());
      return;
    }
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: kind === 'ours' ? { authorization: `Bearer ${token}` } : {} });
    ws.on('message', onFrame);
    ws.once('error', reject);
    // Ours is ready at WELCOME (subscriptions loaded); the plain loop at open.
    if (kind === 'ours') ws.once('message', () => resolve()); else ws.once('open', () => resolve());
    closers.push(() => ws.terminate());
  });
  process.on('message', async (msg: ToChild) => {
    if (msg.cmd === 'disconnect') {
      for (const c of closers) c();
      closers = [];
      counts.clear();
      await sleep(500);
      process.send!({ closed: true });
      return;
    }
    n = msg.tokens.length;
    let next = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < msg.tokens.length) { const i = next++; await connectOne(msg.kind, msg.url, msg.tokens[i]!); }
    }));
    process.send!({ ready: n });
  });
}

// ─── server side ───────────────────────────────────────────────────────────────────────────────
class Clients {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (t: number) => void>();
  private next?: (m: FromChild) => void;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, FANOUT_CHILD: '1' }, stdio: 'inherit' });
    this.child.on('message', (m: FromChild) => {
      if ('seq' in m) { this.waiting.get(m.seq)?.(m.t); this.waiting.delete(m.seq); } else this.next?.(m);
    });
  }
  private ask(msg: ToChild) { return new Promise<FromChild>((resolve) => { this.next = resolve; this.child.send(msg); }); }
  connect(kind: Kind, url: string, tokens: string[]) { return this.ask({ cmd: 'connect', kind, url, tokens }); }
  disconnect() { return this.ask({ cmd: 'disconnect' }); }
  /** Resolves with the time the last client received `seq`. */
  delivered(seq: number, timeoutMs = 30_000) {
    return new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`seq ${seq} not delivered to every client`)), timeoutMs);
      this.waiting.set(seq, (v) => { clearTimeout(t); resolve(v); });
    });
  }
  kill() { this.child.kill(); }
}

interface Target { publish(signal: Signal): void; nextSeq(): number }

/** Latency to the last client (100 single signals) and sustained rate (WINDOW in flight). */
async function measure(target: Target, clients: Clients, n: number, strategyId: string) {
  const sig = (seq: number): Signal => ({
    id: randomUUID(), seq, strategyId, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 64000.5, stopLoss: 63000, takeProfit: 66000,
    note: 'fan-out bench', source: 'api', idempotencyKey: null, evidence: null, reason: null, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64), createdAt: new Date().toISOString(),
  });
  for (let i = 0; i < 5; i++) { const s = sig(target.nextSeq()); const p = clients.delivered(s.seq); target.publish(s); await p; }
  const lat: number[] = [];
  for (let i = 0; i < LATENCY_SIGNALS; i++) {
    const s = sig(target.nextSeq());
    const p = clients.delivered(s.seq);
    const t0 = now();
    target.publish(s);
    lat.push((await p) - t0);
    await sleep(5);
  }
  const total = n >= 5000 ? 200 : 600;
  const inflight: Promise<number>[] = [];
  const start = now();
  let last = start;
  for (let i = 0; i < total; i++) {
    if (inflight.length >= WINDOW) last = await inflight.shift()!;
    const s = sig(target.nextSeq());
    inflight.push(clients.delivered(s.seq));
    target.publish(s);
  }
  for (const p of inflight) last = await p;
  return { lat: summarise(lat), rate: total / ((last - start) / 1000) };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function seedUsers(app: App, n: number) {
  const prisma = app.db.prisma;
  const strategy = await prisma.strategy.create({ data: { name: 'fan-out bench' } });
  const users = Array.from({ length: n }, () => ({ id: randomUUID(), email: `fanout-${randomUUID()}@bench.local`, passwordHash: 'x' }));
  await prisma.user.createMany({ data: users });
  await prisma.subscription.createMany({ data: users.map((u) => ({ userId: u.id, strategyId: strategy.id, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 10 } })) });
  return { strategyId: strategy.id, tokens: users.map((u) => app.tokens.sign({ id: u.id, role: 'USER' })) };
}

async function runSize(app: App, clients: Clients, n: number): Promise<BenchRow[]> {
  const { strategyId, tokens } = await seedUsers(app, n);
  const results: Partial<Record<Kind, Awaited<ReturnType<typeof measure>>>> = {};

  // Ours: signals enter through the bus exactly as the coordinator publishes them after commit.
  const distributor = (app.components.find((c) => c.name === 'ws') as unknown as { distributor: SignalDistributor }).distributor;
  let seq = distributor.sequencer.lastSeq;
  await clients.connect('ours', app.url.replace('http', 'ws') + '/ws/signals', tokens);
  results.ours = await measure({ nextSeq: () => ++seq, publish: (s) => { void app.bus.publish(TOPICS.signalAccepted, { signal: s }); } }, clients, n, strategyId);
  await clients.disconnect();

  // Plain ws: the library alone, serialise once and loop.
  const plainServer = http.createServer();
  const wss = new WebSocketServer({ server: plainServer, perMessageDeflate: false });
  const plainUrl = (await listen(plainServer)).replace('http', 'ws');
  await clients.connect('ws', plainUrl, tokens);
  let pseq = 0;
  results.ws = await measure({
    nextSeq: () => ++pseq,
    publish: (s) => { const buf = Buffer.from(`{"type":"SIGNAL","seq":${s.seq},"signal":${JSON.stringify(s)}}`); for (const c of wss.clients) c.send(buf); },
  }, clients, n, strategyId);
  await clients.disconnect();
  wss.close(); plainServer.close();

  // Socket.IO broadcast.
  const sioServer = http.createServer();
  const sio = new SocketIOServer(sioServer, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  const sioUrl = await listen(sioServer);
  await clients.connect('sio', sioUrl, tokens);
  let sseq = 0;
  results.sio = await measure({ nextSeq: () => ++sseq, publish: (s) => { sio.emit('m', { type: 'SIGNAL', seq: s.seq, signal: s }); } }, clients, n, strategyId);
  await clients.disconnect();
  await new Promise((r) => sio.close(() => r(undefined)));

  const { ours, ws, sio: sioR } = results as Required<typeof results>;
  const label = `${n.toLocaleString('en')} clients`;
  const rows: BenchRow[] = [];
  for (const [name, r] of [['ours', ours], ['plain ws loop', ws], ['Socket.IO emit', sioR]] as const) {
    const isOurs = name === 'ours';
    rows.push({ name: `fan-out ${label}, ${name}: one signal → last client, p50`, value: ms(r.lat.p50) });
    rows.push({
      name: `fan-out ${label}, ${name}: one signal → last client, p99 (${r.lat.n} signals)`, value: ms(r.lat.p99),
      ...(isOurs && n >= 5000 ? { target: '< 100 ms', verdict: verdict(r.lat.p99 < 100) } : {}),
    });
    rows.push({ name: `fan-out ${label}, ${name}: sustained signals/s (${WINDOW} in flight)`, value: `${r.rate.toFixed(0)}/s (${Math.round(r.rate * n).toLocaleString('en')} msgs/s)` });
  }
  rows.push({ name: `fan-out ${label}: ours / plain ws throughput`, value: `${(ours.rate / ws.rate).toFixed(2)}×`, target: '≥ 0.8×', verdict: verdict(ours.rate / ws.rate >= 0.8) });
  rows.push({ name: `fan-out ${label}: ours / Socket.IO throughput`, value: `${(ours.rate / sioR.rate).toFixed(2)}×`, target: '> 1×', verdict: verdict(ours.rate > sioR.rate) });
  return rows;
}

export default async function fanoutBench(): Promise<BenchRow[]> {
  const dbUrl = await freshDatabase('sm_bench_fanout');
  const config = loadConfig({
    DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-fanout-')),
    JWT_SECRET: 'f'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'), LOG_LEVEL: 'silent', ROLES: 'api',
    // Synthetic seqs run ahead of this (private) database's counter: no catch-up reads during the bench.
    WS_CATCHUP_INTERVAL_MS: String(3_600_000),
  });
  const app = await buildApp(config, { log: createLogger('silent') });
  const clients = new Clients();
  try {
    const rows: BenchRow[] = [];
    for (const n of SIZES) rows.push(...(await runSize(app, clients, n)));
    return rows;
  } finally {
    clients.kill();
    await app.stop();
  }
}
