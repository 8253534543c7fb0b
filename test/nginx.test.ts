/**
 * The shipped nginx/signal-marketplace.conf in a real nginx (Debian's /usr/sbin/nginx, run as a child with
 * its own prefix), in front of two real app processes (ROLES=api) sharing Redis. The test swaps only the
 * upstream servers and the listen/ssl lines; the map, locations, timeouts and body limit are the file's own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { client, registerUser, seedStrategy, uniquePair } from './support/app.js';
import { TEST_REDIS_URL } from './support/env.js';
import { freePort, spawnServer, type ServerProcess } from './support/processes.js';
import { WsClient } from './support/ws-client.js';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const SITE = path.resolve(import.meta.dirname, '../nginx/signal-marketplace.conf');

/**
 * The site file with the upstream pointed at `backends`, the TLS server on plain `httpsPort` and the
 * port-80 server on `httpPort`, wrapped in a minimal main context whose files live under `prefix`.
 */
export function renderNginxConfig(site: string, o: { prefix: string; backends: number[]; httpsPort: number; httpPort: number }): string {
  let body = site.replace(/(upstream sm_api \{\n)(?:\s*server [^\n]*\n)+/, (_m, head: string) => head + o.backends.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;\n`).join(''));
  body = body.replace(/^\s*listen 443 ssl[^;]*;/m, `    listen 127.0.0.1:${o.httpsPort};`);
  body = body.replace(/^\s*listen 80;/m, `    listen 127.0.0.1:${o.httpPort};`);
  body = body.replace(/^\s*ssl_certificate(_key)? [^\n]*\n/gm, '');
  for (const must of [`server 127.0.0.1:${o.backends[0]}`, `listen 127.0.0.1:${o.httpsPort}`, `listen 127.0.0.1:${o.httpPort}`]) {
    if (!body.includes(must)) throw new Error(`nginx/signal-marketplace.conf changed shape: could not render "${must}"`);
  }
  const t = (d: string) => path.join(o.prefix, d);
  return `worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
${body}
}
`;
}

interface Nginx { url: string; httpUrl: string; child: ChildProcess; stop(): Promise<void> }

async function startNginx(backends: number[]): Promise<Nginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'sm-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  writeFileSync(path.join(prefix, 'nginx.conf'), renderNginxConfig(readFileSync(SITE, 'utf8'), { prefix, backends, httpsPort, httpPort }));
  const child = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${path.join(prefix, 'nginx.pid')}; error_log stderr;`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${httpsPort}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${err}`);
    try { await fetch(url + '/health'); break; } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`nginx did not listen: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, httpUrl: `http://127.0.0.1:${httpPort}`, child,
    async stop() { if (child.exitCode === null) { const done = new Promise((r) => child.once('exit', r)); child.kill('SIGQUIT'); await done; } },
  };
}

/** An api process on a fixed port (so nginx's upstream entry stays valid across restarts). */
async function startApp(port: number, prefix: string): Promise<ServerProcess> {
  const p = await spawnServer({ ROLES: 'api', PORT: String(port), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, WS_PING_INTERVAL_MS: '5000' }, { waitHealth: false });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000; // two tsx start-ups at once on a busy machine take a while
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`app exited ${p.child.exitCode}: ${p.output().slice(-2000)}`);
    try { if ((await fetch(url + '/health')).ok) return { ...p, url, port }; } catch { /* not up yet */ }
    if (Date.now() > deadline) { await p.kill(); throw new Error(`app did not become healthy: ${p.output().slice(-2000)}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function wsClients(port: number): Promise<number> {
  const r = await client(`http://127.0.0.1:${port}`).get('/health/details');
  return r.body.checks.ws.clients as number;
}

/**
 * GET `url` from the local source address `from`: 127.0.0.1 is in the site's operator network,
 * 127.0.0.2 (also loopback, so no second machine is needed) is not and stands for a stranger.
 */
function getFrom(from: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress: from, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('nginx (the shipped site config) in front of two app processes', function () {
  this.timeout(240_000);
  before(() => { assert.ok(existsSync(NGINX), `nginx at ${NGINX} (apt-get install nginx; .ci/run installs it)`); });
  const prefix = `smtest:${randomUUID().slice(0, 8)}:`;
  let ports: number[];
  const apps: ServerProcess[] = [];
  let nginx: Nginx;

  before(async () => {
    ports = [await freePort(), await freePort()];
    apps.push(...await Promise.all(ports.map((p) => startApp(p, prefix))));
    nginx = await startNginx(ports);
  });
  after(async () => {
    await nginx?.stop();
    await Promise.all(apps.map((a) => a.kill('SIGKILL')));
  });

  it('serves REST, the TradingView webhook on the port-80 server, and enforces the 64 KB body limit', async () => {
    const api = client(nginx.url);
    const { author, strategyId, secret } = await seedStrategy(nginx.url);
    const listed = await api.get(`/api/strategies/${strategyId}`);
    assert.equal(listed.status, 200);
    const pair = uniquePair();
    const wh = await client(nginx.httpUrl).post(`/api/webhooks/tradingview/${strategyId}`, { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 10, secret });
    assert.equal(wh.status, 202, JSON.stringify(wh.body));
    const other = await fetch(nginx.httpUrl + '/api/strategies', { redirect: 'manual' });
    assert.equal(other.status, 301, 'everything but webhooks is redirected to HTTPS on port 80');
    const big = await api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 10, note: 'x'.repeat(100_000) }, author.token);
    assert.equal(big.status, 413);
    const health = await api.get('/health');
    assert.equal(health.status, 200);
  });

  it('a stranger gets 403 for /metrics and /health/details (any spelling) while /health answers only its status; the operator network reads both', async () => {
    // The app's own OPERATOR_NETWORKS default admits all of 127.0.0.0/8, so every 403 below is nginx's.
    const stranger = '127.0.0.2';
    for (const p of ['/metrics', '/health/details', '/METRICS', '/Health/Details', '/%6detrics', '//metrics', '/api/../metrics', '/metrics?x=1']) {
      const r = await getFrom(stranger, nginx.url + p);
      assert.equal(r.status, 403, `${p} from a stranger: ${r.status} ${r.body.slice(0, 200)}`);
      assert.equal(JSON.parse(r.body).error.code, 'OPERATOR_ONLY', p);
    }
    const pub = await getFrom(stranger, nginx.url + '/health');
    assert.equal(pub.status, 200);
    assert.deepEqual(JSON.parse(pub.body), { status: 'ok' }, 'the public health answer carries no details');
    // Port 80 only forwards webhooks; /metrics there is a redirect to HTTPS, where the rule above applies.
    assert.equal((await getFrom(stranger, nginx.httpUrl + '/metrics')).status, 301);

    const metrics = await getFrom('127.0.0.1', nginx.url + '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /ws_clients_connected/);
    const details = await getFrom('127.0.0.1', nginx.url + '/health/details');
    assert.equal(details.status, 200);
    assert.equal(JSON.parse(details.body).checks.db.ok, true);
  });

  it('upgrades /ws/signals, refuses a bad token with 401, and after the app restarts the client RESUMEs through nginx with no gap and no duplicate', async () => {
    const api = client(nginx.url);
    const { author, strategyId } = await seedStrategy(nginx.url);
    const u = await registerUser(nginx.url);
    assert.equal((await api.post('/api/subscriptions', { strategyId, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 10 } }, u.token)).status, 201);
    assert.equal((await WsClient.refused(nginx.url, { token: 'not-a-jwt' })).status, 401);

    const publish = async () => {
      const r = await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 100 }, author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: string; seq: number };
    };
    const ws = await WsClient.connect(nginx.url, u.token);
    const first = await publish();
    await ws.signal(first.id);

    // The process holding the socket goes down gracefully (SIGTERM, as PM2 does); the client sees 1001.
    const counts = await Promise.all(ports.map(wsClients));
    const i = counts.findIndex((n) => n > 0);
    assert.ok(i >= 0, `one backend holds the socket: ${counts}`);
    const stopped = apps[i]!.kill('SIGTERM');
    const closed = await ws.closed;
    assert.deepEqual(closed, { code: 1001, reason: 'server shutting down' });
    await stopped;
    assert.equal(apps[i]!.child.exitCode, 0, apps[i]!.output().slice(-2000));

    // Signals accepted while it is down go through nginx to the other process.
    const missed = [await publish(), await publish(), await publish()];
    apps[i] = await startApp(ports[i]!, prefix);

    // As a browser does: a single-use ticket (issued by one backend, redeemed by whichever nginx picks).
    const again = await WsClient.connect(nginx.url, u.token, 'ticket');
    try {
      again.send({ type: 'RESUME', lastSeq: first.seq });
      for (const s of missed) await again.signal(s.id);
      const live = await publish();
      await again.signal(live.id);
      await new Promise((r) => setTimeout(r, 200)); // room for a stray duplicate
      assert.deepEqual(again.signals.map((m) => m.seq), [...missed, live].map((s) => s.seq));
      // Both processes take traffic again: each answers /health directly and nginx keeps answering.
      for (const p of ports) assert.equal((await client(`http://127.0.0.1:${p}`).get('/health')).status, 200);
      for (let k = 0; k < 4; k++) assert.equal((await api.get(`/api/strategies/${strategyId}`)).status, 200);
    } finally {
      again.close();
      ws.close();
    }
  });
});
