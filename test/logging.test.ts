/**
 * Logging never holds the server: the real entry point (src/main.ts) runs as its own process with its
 * stdout (and stderr) piped to a reader that never reads (`sleep`), as in `npm start 2>&1 | sleep 300`.
 * A flood of refused webhooks (one 'request refused' line each) piles up lines; the server keeps
 * answering and placing orders, unwritten lines stay within LOG_BUFFER_BYTES (the rest are dropped and
 * counted); after the reader is gone, requests and orders still flow and SIGTERM exits within the 15 s
 * shutdown bound (before: the final log flush retried its write forever and the process never exited).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { client, registerUser, seedStrategy, testEnv } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';

const ROOT = process.env.LOGGING_TEST_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHUTDOWN_BOUND_MS = 15_000;
const BUFFER_BYTES = 256 * 1024;
const REFUSED = 4000;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const exited = (p: ChildProcess) => new Promise<number | null>((resolve) => { if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode); else p.once('exit', (code) => resolve(code)); });

/** Sends `n` requests with at most `parallel` in flight; returns their statuses. */
async function flood(n: number, parallel: number, send: (i: number) => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) { const i = next++; statuses[i] = await send(i).catch(() => 0); }
  }));
  return statuses;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  assert.ok(m, `metric ${name} is exported`);
  return Number(m[1]);
}

describe('a stdout log reader that stalls and then goes away', function () {
  // ~40 s on a quiet machine; a 2-core machine shared with other work can take minutes to start the server.
  this.timeout(300_000);
  const fake = new FakeBinance();
  let reader: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  after(async () => {
    for (const p of [server, reader]) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await fake.stop();
  });

  /** The server process writing its stdout and stderr into a pipe only `sleep` holds the other end of. */
  async function start(): Promise<string> {
    const exchange = await fake.start();
    fake.setPrice('ETH/USDT', 3000);
    const port = await freePort();
    reader = spawn('sleep', ['300'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const env = {
      ...process.env,
      ...testEnv({
        PORT: String(port), LOG_LEVEL: 'info', LOG_BUFFER_BYTES: String(BUFFER_BYTES), ROLES: 'api,executor,store',
        TRADING_MODE: 'live', EXCHANGE_URL_BINANCE: exchange, EXCHANGE_TIMEOUT_MS: '2000', EXCHANGE_RECV_WINDOW_MS: '1000',
        EXECUTOR_LEASE_MS: '4000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
      }),
    };
    server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', reader.stdin!, reader.stdin!] });
    // Close this process's copy of the pipe's write end: the server is its only writer, sleep its only reader.
    reader.stdin!.destroy();
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the server to answer /health', async () => (await fetch(`${url}/health`)).status === 200, 120_000);
    return url;
  }

  it('when the reader is alive but never reads, 4 MB of log lines cost at most LOG_BUFFER_BYTES of memory (the rest dropped and counted) and the exit waits for them at most the flush bound', async () => {
    const sleeper = spawn('sleep', ['300'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const script = `
      import { createLogger, droppedLogLines, flushLogs, pendingLogBytes } from './src/lib/logger.ts';
      const log = createLogger('info', {}, { bufferBytes: ${BUFFER_BYTES} });
      for (let i = 0; i < 20000; i++) log.info({ i, filler: 'x'.repeat(150) }, 'request refused');
      const report = { dropped: droppedLogLines(), pending: pendingLogBytes() };
      const t = Date.now();
      await flushLogs(2000);
      process.stderr.write(JSON.stringify({ ...report, flushMs: Date.now() - t }) + '\\n');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', sleeper.stdin!, 'pipe'] });
    sleeper.stdin!.destroy();
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const started = Date.now();
    try {
      const code = await Promise.race([exited(child), new Promise((resolve) => setTimeout(() => resolve('hung'), 30_000))]);
      assert.notEqual(code, 'hung', 'the process never exited');
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stderr.trim().split('\n').at(-1)!) as { dropped: number; pending: number; flushMs: number };
      assert.ok(report.dropped > 10_000, `most lines dropped and counted (${report.dropped})`);
      assert.ok(report.pending > 0 && report.pending <= BUFFER_BYTES, `unwritten ${report.pending} B within ${BUFFER_BYTES} B`);
      assert.ok(report.flushMs >= 1900 && report.flushMs < 3000, `the final flush gave up after ${report.flushMs} ms`);
      assert.ok(Date.now() - started < 25_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      sleeper.kill('SIGKILL');
    }
  });

  it('when the server (src/main.ts, its own process) logs to a reader that never reads and then goes away, 4,000 refused webhooks are all answered, orders are still placed, unwritten log lines stay within LOG_BUFFER_BYTES (the rest dropped and counted), and SIGTERM exits within the 15 s bound', async () => {
    const url = await start();
    const api = client(url);
    const pid = server!.pid!;
    const { strategyId, secret } = await seedStrategy(url, { pairs: ['ETH/USDT'] });
    const subscriber = await registerUser(url);
    const keys = { apiKey: `key-${randomUUID()}`, apiSecret: `secret-${randomUUID()}` };
    fake.addAccount(keys.apiKey, keys.apiSecret, { USDT: 10_000 });
    const sub = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, ...keys }, subscriber.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const rssBefore = rssMB(pid);

    // Each wrong secret is refused with one 'request refused' log line. Every request comes from its own
    // client address (X-Forwarded-For from loopback is trusted), so no per-IP limit answers them unlogged.
    const t0 = Date.now();
    const statuses = await flood(REFUSED, 32, async (i) => (await fetch(`${url}/api/webhooks/tradingview/${strategyId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      body: JSON.stringify({ pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, secret: `wrong-${i}` }),
    })).status);
    const floodMs = Date.now() - t0;
    const counts = statuses.reduce<Record<number, number>>((a, s) => ({ ...a, [s]: (a[s] ?? 0) + 1 }), {});
    assert.deepEqual(counts, { 401: REFUSED }, `every refused webhook is answered 401 (took ${floodMs} ms)`);

    // The reader has read nothing: lines beyond the buffer were dropped and counted, the rest are held, bounded.
    const metrics = await api.get('/metrics');
    assert.equal(metrics.status, 200);
    const dropped = metric(metrics.body, 'log_lines_dropped_total');
    const buffered = metric(metrics.body, 'log_buffered_bytes');
    assert.ok(dropped > 0, `lines were dropped (${dropped})`);
    assert.ok(buffered <= BUFFER_BYTES, `unwritten log text ${buffered} B stays within LOG_BUFFER_BYTES ${BUFFER_BYTES}`);
    const rssGrowth = rssMB(pid) - rssBefore;
    assert.ok(rssGrowth < 150, `RSS grew ${rssGrowth.toFixed(0)} MB over the flood`);

    // Orders still flow while the reader is stalled: the author's webhook is accepted, the order reaches the venue.
    const signal = (action: 'OPEN' | 'CLOSE') => api.post(`/api/webhooks/tradingview/${strategyId}`, { pair: 'ETH/USDT', action, direction: 'LONG', price: 3000, secret });
    const placed = async (n: number) => {
      const row = await waitFor(`order ${n} of the subscriber`, async () => {
        const rows = (await api.get('/api/executions', subscriber.token)).body.executions ?? [];
        return rows.length >= n && rows[0].status !== 'PENDING' ? rows[0] : undefined;
      });
      assert.equal(row.status, 'SUCCESS', JSON.stringify(row));
      assert.equal(fake.orders(keys.apiKey).length, n);
    };
    const open = await signal('OPEN');
    assert.ok([201, 202].includes(open.status), `OPEN accepted: ${open.status} ${JSON.stringify(open.body)}`);
    await placed(1);

    // The reader goes away: webhooks are still answered and orders still placed.
    reader!.kill('SIGKILL');
    await exited(reader!);
    const after = await flood(200, 16, async (i) => (await fetch(`${url}/api/webhooks/tradingview/${strategyId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.200.${(i >> 8) & 255}.${i & 255}` },
      body: JSON.stringify({ pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, secret: `wrong-${i}` }),
    })).status);
    assert.deepEqual([...new Set(after)], [401], 'refused webhooks are answered after the reader is gone');
    const close = await signal('CLOSE');
    assert.ok([201, 202].includes(close.status), `CLOSE accepted: ${close.status} ${JSON.stringify(close.body)}`);
    await placed(2);

    // SIGTERM with the reader gone (its lines unwritable): the exit stays within the shutdown bound.
    const stopped = Date.now();
    server!.kill('SIGTERM');
    const code = await Promise.race([exited(server!), new Promise((resolve) => setTimeout(() => resolve('hung'), SHUTDOWN_BOUND_MS + 3000))]);
    const stopMs = Date.now() - stopped;
    assert.notEqual(code, 'hung', `the server was still running ${SHUTDOWN_BOUND_MS + 3000} ms after SIGTERM`);
    assert.ok(stopMs < SHUTDOWN_BOUND_MS, `exited ${stopMs} ms after SIGTERM`);
    assert.equal(code, 0, 'a graceful exit');
  });
});
