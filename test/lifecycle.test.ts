/**
 * Graceful lifecycle: /health turns 503 once stopping starts, SIGTERM/SIGINT stop real processes within
 * the bound (WebSocket clients get 1001 so they RESUME elsewhere), and processes without the api role
 * still answer /health on their own port.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Router } from 'express';
import { client, registerUser, startTestApp } from './support/app.js';
import { spawnServer } from './support/processes.js';
import { WsClient } from './support/ws-client.js';

/** One raw keep-alive connection: `send(path)` writes a GET; `read()` is everything received so far. */
function rawConnection(port: number): { socket: net.Socket; send(path: string): void; read(): string } {
  const socket = net.connect(port, '127.0.0.1');
  let raw = '';
  socket.on('data', (d) => { raw += d.toString(); });
  socket.on('error', () => {});
  return { socket, send: (p) => socket.write(`GET ${p} HTTP/1.1\r\nHost: localhost\r\n\r\n`), read: () => raw };
}

const lines = (out: string) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });

describe('graceful lifecycle', function () {
  this.timeout(60_000);

  it('while the app is stopping, /health answers 503 with process state "stopping" to a request already on an open connection', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let entered!: () => void;
    const inSlow = new Promise<void>((r) => { entered = r; });
    const slow = Router().get('/test/slow', async (_req, res) => { entered(); await held; res.json({ done: true }); });
    const app = await startTestApp({}, { extraComponents: () => [{ name: 'slow', start: async () => {}, stop: async () => {}, routers: [slow] }] });
    const before = await client(app).get('/health/details');
    assert.equal(before.status, 200);
    assert.equal(before.body.checks.process.state, 'running');

    const port = Number(new URL(app.url).port);
    const conn = rawConnection(port);
    conn.send('/test/slow');
    await inSlow;
    const stopped = app.stop(); // the listener closes; this connection is busy, so it stays open
    conn.send('/health/details');
    await new Promise((r) => setTimeout(r, 100));
    release();
    const deadline = Date.now() + 10_000;
    while ((conn.read().match(/HTTP\/1\.1 \d{3}/g) ?? []).length < 2 || !conn.read().endsWith('}')) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    conn.socket.destroy(); // otherwise the server waits its 5 s before closing busy connections
    await stopped;
    const raw = conn.read();
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 503], raw);
    const body = JSON.parse(raw.slice(raw.lastIndexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '').trim());
    assert.equal(body.checks.process.state, 'stopping');
    assert.equal(body.status, 'degraded');
  });

  it('an api process given SIGTERM closes WebSockets with 1001 "server shutting down", exits 0 well inside the 15 s bound and logs how long it took', async () => {
    const p = await spawnServer({ ROLES: 'api', LOG_LEVEL: 'info' }, { redis: true });
    try {
      const u = await registerUser(p.url);
      const ws = await WsClient.connect(p.url, u.token);
      const t0 = Date.now();
      await p.kill('SIGTERM');
      const took = Date.now() - t0;
      assert.deepEqual(await ws.closed, { code: 1001, reason: 'server shutting down' });
      assert.equal(p.child.exitCode, 0, p.output().slice(-2000));
      assert.ok(took < 10_000, `stopped in ${took} ms`);
      const log = lines(p.output());
      assert.ok(log.some((l) => l.msg === 'shutting down' && l.reason === 'SIGTERM'));
      assert.ok(log.some((l) => l.msg === 'stopped' && typeof l.ms === 'number'));
    } finally {
      await p.kill();
    }
  });

  it('a capturer-only process answers /health on its own port (browser, last capture, captures, failures) and exits 0 on SIGINT', async () => {
    const p = await spawnServer({ ROLES: 'capturer', LOG_LEVEL: 'info' }, { redis: true });
    try {
      const h = await client(p.url).get('/health/details');
      assert.equal(h.status, 200, JSON.stringify(h.body));
      const cap = h.body.checks.capturer;
      assert.equal(cap.ok, true);
      assert.equal(cap.targets, 0);
      for (const k of ['browserUp', 'lastOkAt', 'captures', 'failures']) assert.ok(k in cap, `capturer health has ${k}: ${JSON.stringify(cap)}`);
      assert.equal(h.body.checks.process.state, 'running');
      assert.equal((await client(p.url).get('/api/strategies')).status, 404, 'no REST on a capturer process');
      await p.kill('SIGINT');
      assert.equal(p.child.exitCode, 0, p.output().slice(-2000));
      assert.ok(lines(p.output()).some((l) => l.msg === 'stopped'));
    } finally {
      await p.kill();
    }
  });
});
