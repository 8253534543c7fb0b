/**
 * The signal log follower (src/signals/log-follower.ts) on real PostgreSQL and Redis: every seq once and in
 * order under concurrent inserts from two processes' coordinators, gaps read by seq, a database outage
 * survived (logged once), bus wake-ups far inside the poll period, start/stop idempotent; and the JSON
 * store of a `store`-only process fed through the Redis bus by an `api`-only process within milliseconds.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { App } from '../src/app.js';
import { InProcessBus, TOPICS } from '../src/bus/index.js';
import { SignalLog, SignalLogFollower, type FollowerOptions, type SignalEffect } from '../src/signals/index.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';
import { spawnServer, type ServerProcess } from './support/processes.js';

const silent = pino({ level: 'silent' });

/** A follower that records what it is handed. */
function recorder(opts: Partial<FollowerOptions> & Pick<FollowerOptions, 'signalLog'>) {
  const seen: SignalEffect[] = [];
  const waiters: { seq: number; resolve(): void }[] = [];
  const f = new SignalLogFollower({
    name: 'test', log: silent, pollMs: 60_000, from: () => opts.signalLog.headSeq(), ...opts,
    handle: (batch) => {
      seen.push(...batch);
      const top = batch.at(-1)!.signal.seq;
      for (const w of waiters.splice(0)) if (top >= w.seq) w.resolve(); else waiters.push(w);
    },
  });
  const reached = (seq: number, ms: number) => new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    if (f.cursor >= seq) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`follower at ${f.cursor} did not reach ${seq} in ${ms} ms`)), ms);
    waiters.push({ seq, resolve: () => { clearTimeout(timer); resolve(performance.now() - t0); } });
  });
  return { f, seen, reached, seqs: () => seen.map((e) => e.signal.seq) };
}

/** Every seq from+1..to once and in order (later ones may follow: the database is shared with whatever else runs). */
function assertContiguous(seqs: number[], from: number, to: number) {
  assert.deepEqual(seqs.filter((s) => s <= to), Array.from({ length: to - from }, (_, i) => from + 1 + i), `every seq ${from + 1}..${to} once, in order`);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'strictly increasing, no seq twice');
}

const open = (pair: string, price = 10) => ({ pair, action: 'OPEN', direction: 'LONG', price, stopLoss: price * 0.9 });

describe('signal log follower', function () {
  this.timeout(120_000);
  let a: App;
  let b: App;
  let author: { token: string };
  let strategyId: string;
  const prefix = `smtest:${randomUUID().slice(0, 8)}:`;
  before(async () => {
    a = await startTestApp({ ROLES: 'api', REDIS_PREFIX: prefix }, { redis: true });
    b = await startTestApp({ ROLES: 'api', REDIS_PREFIX: prefix }, { redis: true });
    ({ author, strategyId } = await seedStrategy(a));
  });
  after(async () => { await a?.stop(); await b?.stop(); });

  const post = (app: App, body: object) => client(app).post('/api/signals', { strategyId, ...body }, author.token);

  it('hands over every seq once and in order while two processes\' coordinators insert concurrently (bus-fed and poll-only followers alike)', async () => {
    const log = new SignalLog(a.db.pool);
    const start = await log.headSeq();
    const fed = recorder({ signalLog: log, bus: a.bus });
    const polled = recorder({ signalLog: log, pollMs: 50, batchSize: 7 }); // small batches: many reads, each continuing the last
    await Promise.all([fed.f.start(), polled.f.start()]);
    try {
      const posts = Array.from({ length: 120 }, (_, i) => post(i % 2 ? a : b, open(uniquePair(), 10 + i)));
      const results = await Promise.all(posts);
      assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.find((r) => r.status !== 201)?.body));
      const head = await log.headSeq();
      await Promise.all([fed.reached(head, 20_000), polled.reached(head, 20_000)]);
      assertContiguous(fed.seqs(), start, head);
      assertContiguous(polled.seqs(), start, head);
      // The message carries the trade: each OPEN comes with the trade it opened, whichever path brought it.
      for (const e of [...fed.seen, ...polled.seen]) {
        const tradeOf = e.signal.action === 'OPEN' ? e.opened?.openSignalId : e.closed?.closeSignalId;
        assert.equal(tradeOf, e.signal.id, `seq ${e.signal.seq} carries its trade`);
      }
    } finally { await Promise.all([fed.f.stop(), polled.f.stop()]); }
  });

  it('wakes from the bus far inside its poll period (60 s): a signal accepted by another process arrives within a second', async () => {
    const r = recorder({ signalLog: new SignalLog(a.db.pool), bus: a.bus, pollMs: 60_000 });
    await r.f.start();
    try {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await post(b, open(uniquePair()));
        assert.equal(res.status, 201);
        times.push(await r.reached(res.body.seq, 5000));
      }
      // Started after its only read; the next poll is 60 s away, so only the bus can have brought these.
      assert.ok(Math.max(...times) < 1000, `arrived ${times.map((t) => t.toFixed(1)).join(', ')} ms after the answer`);
    } finally { await r.f.stop(); }
  });

  it('a message above cursor+1 makes it read the missing seqs from PostgreSQL (gap fill), in order', async () => {
    const bus = new InProcessBus(silent); // only this test publishes here: the follower hears nothing else
    // needs 'signal': the message below is complete, so only the missing seqs before it are read.
    const r = recorder({ signalLog: new SignalLog(a.db.pool), bus, pollMs: 60_000, graceMs: 5, needs: 'signal' });
    await r.f.start();
    try {
      const from = r.f.cursor;
      const accepted = [];
      for (let i = 0; i < 3; i++) accepted.push((await post(a, open(uniquePair()))).body);
      const last = accepted.at(-1)!;
      await bus.publish(TOPICS.signalAccepted, { signal: last });
      const ms = await r.reached(last.seq, 5000);
      assertContiguous(r.seqs(), from, last.seq);
      assert.ok(ms < 2000, `gap filled after ${ms.toFixed(0)} ms`);
      const ids = r.seen.map((e) => e.signal.id);
      assert.ok(accepted.every((x) => ids.includes(x.id)), 'the three accepted signals among them');
    } finally { await r.f.stop(); }
  });

  it('survives losing PostgreSQL: the failed reads are logged once, and once back it delivers what was accepted meanwhile, once and in order', async () => {
    const proxy = await tcpProxy(new URL(TEST_DATABASE_URL).port || '5432');
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 2000 });
    pool.on('error', () => {}); // idle clients cut by the proxy
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l)); } });
    // No bus: a message would carry the signal and its trade, and be delivered without a read.
    const r = recorder({ signalLog: new SignalLog(pool), log, pollMs: 100 });
    await r.f.start();
    try {
      const from = r.f.cursor;
      proxy.cut();
      const during = [];
      for (let i = 0; i < 4; i++) during.push((await post(a, open(uniquePair()))).body.seq as number);
      await waitFor(() => lines.some((l) => l.msg.includes('reading the signal log failed')), 10_000);
      await new Promise((res) => setTimeout(res, 800)); // several more failed polls and retries
      assert.equal(r.f.cursor, from, 'nothing delivered while PostgreSQL is unreachable');
      proxy.restore();
      await r.reached(during.at(-1)!, 15_000);
      assertContiguous(r.seqs(), from, during.at(-1)!);
      assert.equal(lines.filter((l) => l.msg.includes('reading the signal log failed')).length, 1, 'the outage is logged once');
      assert.equal(lines.filter((l) => l.msg.includes('working again')).length, 1, 'and its end once');
    } finally { await r.f.stop(); await pool.end(); await proxy.close(); }
  });

  it('start and stop are idempotent; a stopped follower is handed nothing more', async () => {
    const log = new SignalLog(a.db.pool);
    const stopped = recorder({ signalLog: log, bus: a.bus, pollMs: 50 });
    const control = recorder({ signalLog: log, bus: a.bus, pollMs: 50 });
    await Promise.all([stopped.f.start(), stopped.f.start(), control.f.start()]);
    const first = await post(a, open(uniquePair()));
    await stopped.reached(first.body.seq, 5000);
    await stopped.f.stop();
    await stopped.f.stop();
    const second = await post(b, open(uniquePair()));
    await control.reached(second.body.seq, 5000); // the control follower got it: it was there to be had
    await new Promise((res) => setTimeout(res, 200)); // and four of the stopped one's polls would have passed
    assert.ok(!stopped.seqs().includes(second.body.seq), 'nothing after stop()');
    assert.equal(new Set(stopped.seqs()).size, stopped.seqs().length, 'no seq twice');
    await control.f.stop();
  });
});

describe('JSON store in another process than the api', function () {
  this.timeout(240_000);
  let api: App;
  let store: ServerProcess;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sm-store-proc-'));
  const prefix = `smtest:${randomUUID().slice(0, 8)}:`;
  before(async () => {
    // The PM2 layout: sm-api (role api) accepts, sm-executor holds the store; only Redis joins them.
    store = await spawnServer({ ROLES: 'store', DATA_DIR: dataDir, REDIS_PREFIX: prefix, STORE_POLL_MS: '60000' }, { redis: true });
    api = await startTestApp({ ROLES: 'api', REDIS_PREFIX: prefix }, { redis: true });
  });
  after(async () => { await store?.kill(); await api?.stop(); });

  const readJson = async (f: string) => JSON.parse(await readFile(path.join(dataDir, 'signals', f), 'utf8'));

  it('signals accepted by the api process are in the store process\'s data/signals within milliseconds (its poll is 60 s; the old 1 s poll could not do 10 in a row)', async () => {
    const { author, strategyId } = await seedStrategy(api);
    const waits: number[] = [];
    let last = { open: '', close: '' };
    for (let i = 0; i < 5; i++) {
      const pair = uniquePair();
      const o = await client(api).post('/api/signals', { strategyId, ...open(pair, 20) }, author.token);
      assert.equal(o.status, 201);
      waits.push(await waitFor(async () => (await readJson('metadata.json')).lastSeq >= o.body.seq, 10_000));
      const active = await readJson('active.json') as { openSignalId: string; stopLoss: number }[];
      assert.deepEqual(active.filter((t) => t.openSignalId === o.body.id).map((t) => t.stopLoss), [18]);
      const c = await client(api).post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 22 }, author.token);
      assert.equal(c.status, 201);
      waits.push(await waitFor(async () => (await readJson('metadata.json')).lastSeq >= c.body.seq, 10_000));
      last = { open: o.body.id, close: c.body.id };
    }
    const done = await readJson('completed_trades.json') as { closeSignalId: string; pnlPct: number }[];
    assert.deepEqual(done.filter((t) => t.closeSignalId === last.close).map((t) => t.pnlPct), [10]);
    assert.ok(!(await readJson('active.json')).some((t: { openSignalId: string }) => t.openSignalId === last.open), 'the closed trade left active.json');
    // The store read everything there was when it started and its next poll is a minute away: only the bus can
    // have brought these. (A 1 s poll would leave about half of them waiting longer than 500 ms.)
    assert.ok(Math.max(...waits) < 500, `durable ${waits.map((w) => w.toFixed(0)).join(', ')} ms after the answer`);
  });
});

/** Polls `check` every 5 ms; resolves with the ms it took. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try { if (await check()) return performance.now() - t0; } catch { /* not there yet */ }
    if (performance.now() - t0 > ms) throw new Error(`condition not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused) and restored. */
async function tcpProxy(targetPort: string) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((s) => {
    if (!up) { s.destroy(); return; }
    const t = net.connect(Number(targetPort), '127.0.0.1');
    sockets.add(s).add(t);
    s.pipe(t).pipe(s);
    const drop = () => { s.destroy(); t.destroy(); sockets.delete(s); sockets.delete(t); };
    s.on('error', drop).on('close', drop);
    t.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() { up = false; for (const s of sockets) s.destroy(); sockets.clear(); },
    restore() { up = true; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
