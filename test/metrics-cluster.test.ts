/**
 * Metrics a real Prometheus can use: `promtool check metrics` accepts the exposition (Debian's prometheus
 * package provides promtool), and in cluster mode (PM2 sm-api: several workers on one shared port) each
 * worker is scraped on its own port, labelled with its instance, so counters neither mix nor "reset".
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import type { App } from '../src/app.js';
import { CaptureMetrics } from '../src/capture/metrics.js';
import { listenOwnPort } from '../src/http/metrics-server.js';
import { createLogger } from '../src/lib/logger.js';
import { MonitorMetrics } from '../src/monitor/metrics.js';
import { startTestApp, testEnv } from './support/app.js';
import { freePort } from './support/processes.js';

/** Runs `promtool check metrics` on an exposition text; resolves to its exit status and output. */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is needed (Debian: apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Sum of one metric's samples whose labels include every `labels` pair, per `worker` label value. */
function samplesByWorker(text: string, name: string, labels: Record<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const pairs = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1], p[2]]));
    if (Object.entries(labels).some(([k, v]) => pairs[k] !== v)) continue;
    const w = pairs.worker ?? '';
    out.set(w, (out.get(w) ?? 0) + Number(m[3]));
  }
  return out;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try { const v = await f(); if (v !== undefined) return v; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('metrics that Prometheus accepts (promtool check metrics)', function () {
  this.timeout(120_000);
  let app: App | undefined;
  after(async () => { await app?.stop(); });

  it('the /metrics of a process with the api, store, executor and notifier roles (plus the monitor and capture metric sets) passes promtool; no gauge is named _total', async () => {
    app = await startTestApp({ ROLES: 'api,store,executor,notifier' }, { redis: true });
    // The monitor and capturer register on the same registry in their own processes; add them here without a browser or an exchange.
    const monitor = new MonitorMetrics(app.metrics.registry, () => ({ trades: 1, pairs: 1, feedLagSeconds: 0.2 }));
    monitor.closed('stop_loss', 'closed', 0.05);
    new CaptureMetrics(app.metrics.registry);
    assert.equal((await fetch(`${app.url}/api/no-such-route`)).status, 404);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(text, /^# TYPE http_requests_total counter$/m);
    assert.match(text, /^# TYPE monitor_/m);
    assert.doesNotMatch(text, /^# TYPE \w+_total (gauge|histogram|summary)$/m);
    const check = promtool(text);
    assert.equal(check.status, 0, check.output);
    assert.equal(check.output.trim(), '', 'promtool has no complaint, not even a lint warning');
  });
});

describe('metrics in cluster mode (PM2 sm-api: workers sharing one port)', function () {
  this.timeout(240_000);
  let primary: ChildProcess | undefined;
  let out = '';
  after(async () => {
    if (primary && primary.exitCode === null && primary.signalCode === null) {
      const exited = new Promise((r) => primary!.once('exit', r));
      primary.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL');
    }
  });

  it('two workers on one shared port: each answers /metrics on METRICS_PORT + its instance, labelled worker="0" and "1", and together they count every request the shared port took', async () => {
    const port = await freePort();
    let metricsPort = await freePort();
    while (metricsPort >= 65535) metricsPort = await freePort();
    const env = { ...process.env, ...testEnv({ PORT: String(port), METRICS_PORT: String(metricsPort), ROLES: 'api', LOG_LEVEL: 'warn' }, { redis: true }), CLUSTER_WORKERS: '2' };
    primary = spawn(process.execPath, ['--import', 'tsx', 'test/support/cluster-primary.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    primary.stdout!.on('data', (d) => { out += d; });
    primary.stderr!.on('data', (d) => { out += d; });
    const scrape = async (p: number) => { const r = await fetch(`http://127.0.0.1:${p}/metrics`); return r.ok ? r.text() : undefined; };
    try {
      await waitFor('the shared port', async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined));
      await waitFor('worker 0 metrics port', () => scrape(metricsPort));
      await waitFor('worker 1 metrics port', () => scrape(metricsPort + 1));
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${out.slice(-3000)}`);
    }

    // Requests on the shared port, answered by whichever worker takes each connection.
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/api/no-such-route-${i}`, { headers: { connection: 'close' } });
      assert.equal(r.status, 404);
      await r.arrayBuffer();
    }

    const texts = [await scrape(metricsPort), await scrape(metricsPort + 1)] as string[];
    for (const [i, text] of texts.entries()) {
      const workers = new Set([...text.matchAll(/worker="([^"]*)"/g)].map((m) => m[1]));
      assert.deepEqual([...workers], [String(i)], `port ${metricsPort + i} answers for worker ${i} only`);
      const check = promtool(text);
      assert.equal(check.status, 0, check.output);
    }
    const counts = texts.map((t) => samplesByWorker(t, 'http_requests_total', { method: 'GET', status: '404' }).get(String(texts.indexOf(t))) ?? 0);
    assert.equal(counts[0]! + counts[1]!, n, `per-worker 404 counts ${counts.join(' + ')} add up to the ${n} requests`);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both workers took requests (${counts.join(', ')}): one scrape of the shared port would see only part`);
  });
});

describe('a worker\'s own metrics port during pm2 reload', () => {
  it('while the worker being replaced still holds the port, the new one keeps retrying and takes it as soon as it is free (the start never fails)', async () => {
    const port = await freePort();
    const old = net.createServer();
    await new Promise<void>((r) => old.listen(port, '127.0.0.1', () => r()));
    const own = listenOwnPort((_req, res) => { res.end('mine'); }, port, '127.0.0.1', createLogger('silent'), 100);
    try {
      let bound = false;
      void own.bound.then(() => { bound = true; });
      // Proven busy: a connection still reaches the old holder, and the new listener has not bound.
      await new Promise<void>((resolve, reject) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(); }); c.on('error', reject); });
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(bound, false);
      await new Promise<void>((r) => old.close(() => r()));
      assert.equal(await own.bound, `http://127.0.0.1:${port}`);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'mine');
    } finally {
      await own.close();
      old.close();
    }
  });
});

/** pm2 on PATH (installed once per machine, `npm install -g pm2`; not a project dependency), else undefined. */
function pm2Bin(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v pm2'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('metrics under real PM2 (sm-api from ecosystem.config.js)', function () {
  this.timeout(300_000);
  let home = '';
  let env: NodeJS.ProcessEnv = {};
  const pm2 = (...args: string[]) => execFileSync(pm2Bin()!, args, { env, cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  after(() => {
    if (Object.keys(env).length) { try { pm2('kill'); } catch { /* daemon already gone */ } }
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('each sm-api cluster worker answers on API_METRICS_PORT + its instance with its own worker label, and after pm2 reload the new workers take the same ports', async function () {
    assert.ok(pm2Bin(), 'pm2 is on PATH (npm install -g pm2@7.0.4; .ci/run installs it)');
    home = mkdtempSync(path.join(os.tmpdir(), 'pm2-metrics-'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    env = {
      ...process.env, ...testEnv({ LOG_LEVEL: 'warn' }, { redis: true }),
      PM2_HOME: home, LOG_DIR: path.join(home, 'logs'), PORT: String(port), API_METRICS_PORT: String(metricsPort), API_INSTANCES: '2',
    };
    pm2('start', 'ecosystem.config.js', '--only', 'sm-api');
    const details = async (p: number) => {
      const r = await fetch(`http://127.0.0.1:${p}/health/details`);
      return r.ok ? ((await r.json()) as { checks: { process: { pid: number } } }).checks.process.pid : undefined;
    };
    const pidsBefore = [await waitFor('worker 0', () => details(metricsPort)), await waitFor('worker 1', () => details(metricsPort + 1))];
    for (const i of [0, 1]) {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort + i}/metrics`)).text();
      assert.deepEqual([...new Set([...text.matchAll(/worker="([^"]*)"/g)].map((m) => m[1]))], [String(i)]);
      const check = promtool(text);
      assert.equal(check.status, 0, check.output);
    }
    pm2('reload', 'sm-api');
    const pidsAfter = [
      await waitFor('worker 0 replaced', async () => { const pid = await details(metricsPort); return pid !== undefined && pid !== pidsBefore[0] ? pid : undefined; }),
      await waitFor('worker 1 replaced', async () => { const pid = await details(metricsPort + 1); return pid !== undefined && pid !== pidsBefore[1] ? pid : undefined; }),
    ];
    const list = JSON.parse(pm2('jlist')) as { name: string; pid: number; pm2_env: { status: string } }[];
    assert.deepEqual(list.filter((p) => p.name === 'sm-api').map((p) => p.pid).sort(), [...pidsAfter].sort(), 'the ports are served by the new workers PM2 lists');
    assert.ok(list.every((p) => p.pm2_env.status === 'online'));
  });
});
