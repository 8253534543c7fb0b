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
import net, { type AddressInfo } from 'node:net';
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
import { frames, textFrame } from '../src/distribution/protocol.js';
import { createLogger } from '../src/lib/logger.js';
import type { Signal } from '../src/signals/index.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { leanConnect, type Kind } from './fanout-client.js';
import { freshDatabase } from './support.js';

const SIZES = (process.env.FANOUT_SIZES ?? '1000,5000').split(',').map(Number);
const LATENCY_SIGNALS = 100;
const WINDOW = 8;
/** Pause between latency signals, after the previous one reached every client. */
const GAP_MS = Number(process.env.FANOUT_GAP_MS ?? 200);
/** Child processes the clients are split over. */
const CLIENT_PROCS = Number(process.env.FANOUT_CLIENT_PROCS ?? 1);
/** Diagnostics: FANOUT_KINDS=ours,ws limits the servers measured; FANOUT_DEBUG=1 prints a breakdown to stderr. */
const KINDS = (process.env.FANOUT_KINDS ?? 'ours,ws,sio,raw').split(',');
const DEBUG = !!process.env.FANOUT_DEBUG;
/**
 * The clients: `lean` (default, bench/fanout-client.ts: raw socket, static read buffer, seq read from
 * the bytes; the same client for all three servers) or `library` (ws and socket.io-client, for comparison).
 */
const CLIENT = process.env.FANOUT_CLIENT === 'library' ? 'library' : 'lean';
const now = () => performance.timeOrigin + performance.now();
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

type ToChild = { cmd: 'connect'; kind: Kind; url: string; tokens: string[] } | { cmd: 'disconnect' };
type FromChild = { ready: number } | { seq: number; t: number; first: number } | { closed: true; gc: GcStats };
type GcStats = { count: number; totalMs: number; maxMs: number };

/** GC pauses seen by this process since the last `take()` (PerformanceObserver 'gc' entries). */
function gcWatch() {
  let st: GcStats = { count: 0, totalMs: 0, maxMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { st.count++; st.totalMs += e.duration; if (e.duration > st.maxMs) st.maxMs = e.duration; }
  });
  obs.observe({ entryTypes: ['gc'] });
  return { take() { const r = st; st = { count: 0, totalMs: 0, maxMs: 0 }; return r; }, stop() { obs.disconnect(); } };
}

// ─── client process ────────────────────────────────────────────────────────────────────────────
if (process.env.FANOUT_CHILD) runClients();

function runClients(): void {
  let closers: (() => void)[] = [];
  let n = 0;
  const gc = gcWatch();
  const counts = new Map<number, number>();
  const firsts = new Map<number, number>();
  const got = (seq: number) => {
    const c = (counts.get(seq) ?? 0) + 1;
    if (c === 1) firsts.set(seq, now());
    if (c === n) { counts.delete(seq); process.send!({ seq, t: now(), first: firsts.get(seq)! }); firsts.delete(seq); } else counts.set(seq, c);
  };
  // Frames are `{"type":"SIGNAL","seq":N,...`: read N without parsing the whole message (same for ours and plain ws).
  const onFrame = (data: Buffer) => {
    if (data[9] !== 0x53 /* S */) return;
    got(parseInt(data.toString('latin1', 23, 40), 10));
  };
  const connectLibrary = (kind: Kind, url: string, token: string) => new Promise<void>((resolve, reject) => {
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
  const connectOne = async (kind: Kind, url: string, token: string) => {
    if (CLIENT === 'library') return connectLibrary(kind, url, token);
    closers.push(await leanConnect(kind, url, token, got));
  };
  process.on('message', async (msg: ToChild) => {
    if (msg.cmd === 'disconnect') {
      for (const c of closers) c();
      closers = [];
      counts.clear();
      firsts.clear();
      await sleep(500);
      process.send!({ closed: true, gc: gc.take() });
      return;
    }
    n = msg.tokens.length;
    let next = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < msg.tokens.length) { const i = next++; await connectOne(msg.kind, msg.url, msg.tokens[i]!); }
    }));
    gc.take(); // GC pauses are reported from here (after the connects) to the disconnect
    process.send!({ ready: n });
  });
}

// ─── server side ───────────────────────────────────────────────────────────────────────────────
/** One child process holding a share of the clients. */
class ClientProcess {
  private readonly child: ChildProcess;
  private next?: (m: FromChild) => void;
  constructor(onDelivered: (m: { seq: number; t: number; first: number }) => void) {
    this.child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, FANOUT_CHILD: '1' }, stdio: 'inherit' });
    this.child.on('message', (m: FromChild) => { if ('seq' in m) onDelivered(m); else this.next?.(m); });
  }
  ask(msg: ToChild) { return new Promise<FromChild>((resolve) => { this.next = resolve; this.child.send(msg); }); }
  kill() { this.child.kill(); }
}

/** The clients, split evenly over CLIENT_PROCS child processes; a seq counts as delivered when every process reports it. */
class Clients {
  private readonly procs: ClientProcess[];
  private readonly waiting = new Map<number, { left: number; last: number; first: number; done: (r: { last: number; first: number }) => void }>();
  gc: GcStats[] = [];
  constructor(count: number) {
    this.procs = Array.from({ length: count }, () => new ClientProcess((m) => {
      const w = this.waiting.get(m.seq);
      if (!w) return;
      w.last = Math.max(w.last, m.t); w.first = Math.min(w.first, m.first);
      if (--w.left === 0) { this.waiting.delete(m.seq); w.done(w); }
    }));
  }
  async connect(kind: Kind, url: string, tokens: string[]) {
    const per = Math.ceil(tokens.length / this.procs.length);
    await Promise.all(this.procs.map((p, i) => p.ask({ cmd: 'connect', kind, url, tokens: tokens.slice(i * per, (i + 1) * per) })));
  }
  async disconnect() {
    const r = await Promise.all(this.procs.map((p) => p.ask({ cmd: 'disconnect' })));
    this.gc = r.map((m) => (m as { gc: GcStats }).gc);
  }
  /** Resolves with the time the last client received `seq` (and the first, for the breakdown). */
  delivered(seq: number, timeoutMs = 30_000) {
    return new Promise<{ last: number; first: number }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`seq ${seq} not delivered to every client`)), timeoutMs);
      this.waiting.set(seq, { left: this.procs.length, last: 0, first: Infinity, done: (v) => { clearTimeout(t); resolve(v); } });
    });
  }
  kill() { for (const p of this.procs) p.kill(); }
}

interface Target {
  publish(signal: Signal): void;
  nextSeq(): number;
  /** Server-side durations (ms) from publish to the last socket write, when the target can tell. */
  serverMs?: number[];
}

/**
 * Latency: LATENCY_SIGNALS single signals, each published GAP_MS after the previous one reached its
 * last client (so no fan-out is still draining when the next starts: this measures latency, not
 * queueing). t0 is taken right before publish, i.e. when the signal is accepted. Then the sustained
 * rate with WINDOW signals in flight (back to back, a separate row).
 */
async function measure(target: Target, clients: Clients, n: number, strategyId: string) {
  const sig = (seq: number): Signal => ({
    id: randomUUID(), seq, strategyId, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 64000.5, stopLoss: 63000, takeProfit: 66000,
    note: 'fan-out bench', source: 'api', idempotencyKey: null, evidence: null, reason: null, prevHash: 'a'.repeat(64), hash: 'b'.repeat(64), createdAt: new Date().toISOString(),
  });
  for (let i = 0; i < 5; i++) { const s = sig(target.nextSeq()); const p = clients.delivered(s.seq); target.publish(s); await p; await sleep(GAP_MS); }
  if (target.serverMs) target.serverMs.length = 0;
  const serverGc = gcWatch();
  const lat: number[] = [];
  const firsts: number[] = [];
  for (let i = 0; i < LATENCY_SIGNALS; i++) {
    const s = sig(target.nextSeq());
    const p = clients.delivered(s.seq);
    const t0 = now();
    target.publish(s);
    const r = await p;
    lat.push(r.last - t0);
    firsts.push(r.first - t0);
    await sleep(GAP_MS);
  }
  const gc = serverGc.take();
  serverGc.stop();
  const server = target.serverMs ? summarise(target.serverMs) : undefined;
  const total = n >= 5000 ? 200 : 600;
  const inflight: Promise<{ last: number }>[] = [];
  const start = now();
  let last = start;
  for (let i = 0; i < total; i++) {
    if (inflight.length >= WINDOW) last = (await inflight.shift()!).last;
    const s = sig(target.nextSeq());
    inflight.push(clients.delivered(s.seq));
    target.publish(s);
  }
  for (const p of inflight) last = (await p).last;
  return { lat: summarise(lat), first: summarise(firsts), server, gc, rate: total / ((last - start) / 1000) };
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

const TEXT = { binary: false } as const;

async function runSize(app: App, clients: Clients, n: number): Promise<BenchRow[]> {
  const { strategyId, tokens } = await seedUsers(app, n);
  const results: Partial<Record<Kind, Awaited<ReturnType<typeof measure>>>> = {};
  const report = (kind: Kind) => {
    const r = results[kind]!;
    if (DEBUG) process.stderr.write(`[fanout ${n} ${kind}] last p50 ${r.lat.p50.toFixed(1)} p99 ${r.lat.p99.toFixed(1)} max ${r.lat.max.toFixed(1)} | first p50 ${r.first.p50.toFixed(1)} p99 ${r.first.p99.toFixed(1)}`
      + (r.server ? ` | server writes done p50 ${r.server.p50.toFixed(1)} p99 ${r.server.p99.toFixed(1)}` : '')
      + ` | server gc ${r.gc.count}× ${r.gc.totalMs.toFixed(0)} ms (max ${r.gc.maxMs.toFixed(1)})`
      + ` | client gc ${clients.gc.map((g) => `${g.count}× ${g.totalMs.toFixed(0)} ms (max ${g.maxMs.toFixed(1)})`).join(', ')} | ${r.rate.toFixed(1)}/s | load ${os.loadavg()[0]!.toFixed(2)}\n`);
  };

  if (KINDS.includes('ours')) {
    // Ours: signals enter through the bus exactly as the coordinator publishes them after commit.
    const distributor = (app.components.find((c) => c.name === 'ws') as unknown as { distributor: SignalDistributor }).distributor;
    let seq = distributor.sequencer.lastSeq;
    // Server side: publish → end of the flush that wrote the signal to its last socket (the fan-out histogram's hook).
    const serverMs: number[] = [];
    let publishedAt = 0;
    const metrics = (distributor as unknown as { deps: { metrics: { fanoutSeconds(s: number): void } } }).deps.metrics;
    const observe = metrics.fanoutSeconds.bind(metrics);
    metrics.fanoutSeconds = (sec) => { serverMs.push(now() - publishedAt); observe(sec); };
    await clients.connect('ours', app.url.replace('http', 'ws') + '/ws/signals', tokens);
    results.ours = await measure({ serverMs, nextSeq: () => ++seq, publish: (s) => { publishedAt = now(); void app.bus.publish(TOPICS.signalAccepted, { signal: s }); } }, clients, n, strategyId);
    await clients.disconnect();
    metrics.fanoutSeconds = observe;
    report('ours');
  }

  if (KINDS.includes('ws')) {
    // Plain ws: the library alone, serialise once and loop.
    const plainServer = http.createServer();
    const wss = new WebSocketServer({ server: plainServer, perMessageDeflate: false });
    const plainUrl = (await listen(plainServer)).replace('http', 'ws');
    await clients.connect('ws', plainUrl, tokens);
    let pseq = 0;
    const serverMs: number[] = [];
    results.ws = await measure({
      serverMs,
      nextSeq: () => ++pseq,
      publish: (s) => {
        const t0 = now();
        const buf = Buffer.from(`{"type":"SIGNAL","seq":${s.seq},"signal":${JSON.stringify(s)}}`);
        // Text frames, as ours sends (a Buffer would go out as a binary frame).
        for (const c of wss.clients) c.send(buf, TEXT);
        serverMs.push(now() - t0);
      },
    }, clients, n, strategyId);
    await clients.disconnect();
    wss.close(); plainServer.close();
    report('ws');
  }

  if (KINDS.includes('sio')) {
    // Socket.IO broadcast.
    const sioServer = http.createServer();
    const sio = new SocketIOServer(sioServer, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
    const sioUrl = await listen(sioServer);
    await clients.connect('sio', sioUrl, tokens);
    let sseq = 0;
    results.sio = await measure({ nextSeq: () => ++sseq, publish: (s) => { sio.emit('m', { type: 'SIGNAL', seq: s.seq, signal: s }); } }, clients, n, strategyId);
    await clients.disconnect();
    await new Promise((r) => sio.close(() => r(undefined)));
    report('sio');
  }

  let raw: Awaited<ReturnType<typeof measure>> | undefined;
  if (KINDS.includes('raw')) {
    // The floor: no WebSocket library, no matching. A bare TCP server answers the upgrade with a fixed 101,
    // then each signal is one pre-built text frame written to every socket in a loop (one write() each).
    const sockets: net.Socket[] = [];
    const rawServer = net.createServer((sock) => {
      sock.setNoDelay(true);
      sock.on('error', () => {});
      let head = '';
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        sock.off('data', onData);
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n');
        sockets.push(sock);
      };
      sock.on('data', onData);
    });
    const rawUrl = await new Promise<string>((r) => rawServer.listen(0, '127.0.0.1', () => r(`ws://127.0.0.1:${(rawServer.address() as AddressInfo).port}/`)));
    await clients.connect('ws', rawUrl, tokens);
    let rseq = 0;
    const serverMs: number[] = [];
    raw = await measure({
      serverMs,
      nextSeq: () => ++rseq,
      publish: (s) => {
        const t0 = now();
        const frame = textFrame(frames.signal(s));
        for (const sock of sockets) sock.write(frame);
        serverMs.push(now() - t0);
      },
    }, clients, n, strategyId);
    await clients.disconnect();
    for (const sock of sockets) sock.destroy();
    rawServer.close();
    if (DEBUG) process.stderr.write(`[fanout ${n} raw] last p50 ${raw.lat.p50.toFixed(1)} p99 ${raw.lat.p99.toFixed(1)} | server writes done p50 ${raw.server!.p50.toFixed(1)} p99 ${raw.server!.p99.toFixed(1)}\n`);
  }

  const label = `${n.toLocaleString('en')} clients`;
  const how = `${CLIENT} clients in ${CLIENT_PROCS === 1 ? '1 process' : `${CLIENT_PROCS} processes`}`;
  const rows: BenchRow[] = [];
  for (const [name, r] of [['ours', results.ours], ['plain ws loop', results.ws], ['Socket.IO emit', results.sio]] as const) {
    if (!r) continue;
    const isOurs = name === 'ours';
    rows.push({ name: `fan-out ${label}, ${name}: one signal → last client, p50 (${how}; signals ${GAP_MS} ms apart)`, value: ms(r.lat.p50) });
    rows.push({
      name: `fan-out ${label}, ${name}: one signal → last client, p99 (${r.lat.n} signals ${GAP_MS} ms apart; ${how})`, value: ms(r.lat.p99),
      ...(isOurs && n >= 5000 ? { target: '< 100 ms', verdict: verdict(r.lat.p99 < 100) } : {}),
    });
    if (r.server && n >= 5000) rows.push({ name: `fan-out ${label}, ${name}: of which, publish → the last socket write returned (server side), p50 / p99`, value: `${ms(r.server.p50)} / ${ms(r.server.p99)}` });
    rows.push({ name: `fan-out ${label}, ${name}: sustained signals/s (${WINDOW} in flight, back to back; ${how})`, value: `${r.rate.toFixed(0)}/s (${Math.round(r.rate * n).toLocaleString('en')} msgs/s)` });
  }
  if (raw) {
    rows.push({ name: `fan-out ${label}, floor (no WebSocket library, no matching: one pre-built frame written to each raw TCP socket): one signal → last client, p50 / p99 (${how})`, value: `${ms(raw.lat.p50)} / ${ms(raw.lat.p99)}` });
    rows.push({ name: `fan-out ${label}, floor: the ${n.toLocaleString('en')} socket writes alone (publish → loop done), p50 / p99`, value: `${ms(raw.server!.p50)} / ${ms(raw.server!.p99)}` });
  }
  const { ours, ws, sio } = results;
  if (ours && ws) rows.push({ name: `fan-out ${label}: ours / plain ws throughput`, value: `${(ours.rate / ws.rate).toFixed(2)}×`, target: '≥ 0.8×', verdict: verdict(ours.rate / ws.rate >= 0.8) });
  if (ours && sio) rows.push({ name: `fan-out ${label}: ours / Socket.IO throughput`, value: `${(ours.rate / sio.rate).toFixed(2)}×`, target: '> 1×', verdict: verdict(ours.rate > sio.rate) });
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
  const clients = new Clients(CLIENT_PROCS);
  try {
    const rows: BenchRow[] = [];
    for (const n of SIZES) rows.push(...(await runSize(app, clients, n)));
    return rows;
  } finally {
    clients.kill();
    await app.stop();
  }
}
