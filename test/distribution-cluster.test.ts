import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { client, registerUser, seedStrategy, TEST_JWT, TEST_KEY, uniquePair } from './support/app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './support/env.js';
import { WsClient } from './support/ws-client.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The per-user socket cap both processes run with. */
const MAX_SOCKETS = 2;

/** One real server process (`node --import tsx src/main.ts`), ROLES=api, sharing Redis under `prefix`. */
async function startProcess(prefix: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: {
      ...process.env, NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', ROLES: 'api', DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, JWT_SECRET: TEST_JWT, KEY_ENCRYPTION_KEY: TEST_KEY, LOG_LEVEL: 'warn',
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-ws-cluster-')), WEBHOOK_RATE_LIMIT_PER_MINUTE: '100000', LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      WS_MAX_SOCKETS_PER_USER: String(MAX_SOCKETS),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000; // two tsx start-ups at once on a busy machine take a while
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
    try { if ((await fetch(url + '/health')).status === 200) return { url, child }; } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`server did not become healthy: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('WebSocket /ws/signals across two server processes sharing Redis', function () {
  this.timeout(240_000);
  const procs: ChildProcess[] = [];
  let a: string;
  let b: string;

  before(async () => {
    const prefix = `smtest:${randomUUID().slice(0, 8)}:`;
    const started = await Promise.all([startProcess(prefix), startProcess(prefix)]);
    procs.push(...started.map((s) => s.child));
    [a, b] = started.map((s) => s.url) as [string, string];
  });
  after(() => { for (const p of procs) p.kill('SIGTERM'); });

  it('a client on either process gets every signal accepted on either process, exactly once and in seq order', async () => {
    const { author, strategyId } = await seedStrategy(a);
    const u = await registerUser(a);
    const sub = await client(b).post('/api/subscriptions', { strategyId, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 10 } }, u.token);
    assert.equal(sub.status, 201);
    const onA = await WsClient.connect(a, u.token);
    const onB = await WsClient.connect(b, u.token);
    try {
      const ids: string[] = [];
      const seqs: number[] = [];
      // Alternate the process that accepts, several in flight at once.
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 5; i++) {
          const r = await client(i % 2 ? a : b).post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 100 + w }, author.token);
          assert.equal(r.status, 201, JSON.stringify(r.body));
          ids.push(r.body.id); seqs.push(r.body.seq);
        }
      }));
      seqs.sort((x, y) => x - y);
      const last = seqs.at(-1)!;
      for (const c of [onA, onB]) await c.waitFor((m) => m.type === 'SIGNAL' && m.seq === last, 10_000);
      await new Promise((r) => setTimeout(r, 200)); // room for a stray duplicate to show up
      for (const c of [onA, onB]) assert.deepEqual(c.signals.map((m) => m.seq), seqs);
    } finally {
      onA.close(); onB.close();
    }
  });

  it('a ticket issued by one process is redeemed by the other, once: a second use on either process is refused with 401', async () => {
    const u = await registerUser(a);
    const ticket = await WsClient.ticket(a, u.token);
    const onB = WsClient.open(b, { query: `ticket=${ticket}` });
    try {
      await onB.waitFor((m) => m.type === 'WELCOME');
      for (const url of [a, b]) {
        const again = await WsClient.refused(url, { ticket });
        assert.equal(again.status, 401, url);
        assert.match(again.body, /TICKET_INVALID/);
      }
    } finally {
      onB.close();
    }
  });

  it(`the per-user cap counts sockets on every process: with WS_MAX_SOCKETS_PER_USER=${MAX_SOCKETS}, one socket on each, the third is closed with 1008 on either process`, async () => {
    const u = await registerUser(a);
    const held = [await WsClient.connect(a, u.token), await WsClient.connect(b, u.token, 'ticket')];
    try {
      for (const url of [a, b]) {
        const extra = WsClient.open(url, { headers: { authorization: `Bearer ${u.token}` } });
        const closed = await extra.closed;
        assert.equal(closed.code, 1008, url);
        assert.match(closed.reason, /too many sockets/);
      }
      // The two held sockets are untouched: each still answers.
      for (const c of held) { c.send({ type: 'PING' }); await c.waitFor((m) => m.type === 'PONG'); }
      // Closing the one on A frees a slot for a socket on B.
      held[0]!.ws.close();
      await held[0]!.closed;
      const deadline = Date.now() + 5000;
      for (;;) {
        const next = WsClient.open(b, { headers: { authorization: `Bearer ${u.token}` } });
        const got = await Promise.race([next.waitFor((m) => m.type === 'WELCOME').then(() => 'welcome', () => 'closed'), next.closed.then(() => 'closed')]);
        if (got === 'welcome') { held.push(next); break; }
        if (Date.now() > deadline) assert.fail('the freed slot was never given to a new socket');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      for (const c of held) c.close();
    }
  });
});
