/**
 * Soak: the full stack under PM2 (ecosystem.config.js, production env) for SOAK_MINUTES (default 30) with
 * steady signal ingestion, SOAK_WS_CLIENTS WebSocket clients (1,000) and SOAK_SUBSCRIPTIONS live
 * subscriptions (200) on the fake Binance. Injected failures: Redis restarted, PostgreSQL restarted, one
 * sm-api worker and the sm-executor killed (SIGKILL). Operator alerts end to end: an ADMIN (made by `npm run
 * create-admin`) has a signed notification webhook pointing at an HTTPS receiver in this process (a
 * self-signed certificate the stack trusts through NODE_EXTRA_CA_CERTS); every delivery's signature is
 * verified, and the Redis and PostgreSQL outages must each produce exactly one `raised` and one `cleared`
 * alert (distinct event ids: delivery is at least once). Reports restarts (pm2 jlist restart_time), memory over
 * time, error log lines, lost/duplicate WebSocket deliveries, missing/duplicate orders and the recovery time
 * after each failure. Writes the report to test-output/soak-<time>.json and prints a Markdown summary.
 *
 * Isolation: its own PM2 daemon (PM2_HOME in a temp dir), its own Redis server on a free port, its own
 * database. SOAK_PG=private (default) runs a private PostgreSQL (initdb as user postgres) so restarting it
 * disturbs nobody; SOAK_PG=shared creates a fresh database on SOAK_PG_ADMIN_URL and restarts the machine's
 * cluster with `pg_ctlcluster --skip-systemctl-redirect <SOAK_PG_CLUSTER=15 main> restart` (only when no
 * other tests run). Needs `pm2` on PATH (npm install -g pm2) or PM2_BIN.
 *
 * Usage: SOAK_MINUTES=30 npm run soak
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { migrate, openDatabase } from '../src/db/index.js';
import { clientOrderId } from '../src/execution/ids.js';
import { createLogger } from '../src/lib/logger.js';
import { SignalReader, checkConsistency } from '../src/signals/index.js';
import { FakeBinance } from '../test/support/fake-exchange.js';

const env = process.env;
const num = (k: string, d: number) => (env[k] ? Number(env[k]) : d);
const CFG = {
  minutes: num('SOAK_MINUTES', 30),
  wsClients: num('SOAK_WS_CLIENTS', 1000),
  subscriptions: num('SOAK_SUBSCRIPTIONS', 200),
  strategies: num('SOAK_STRATEGIES', 20),
  signalsPerSecond: num('SOAK_SIGNALS_PER_SECOND', 2),
  apiInstances: num('SOAK_API_INSTANCES', 2),
  sampleSeconds: num('SOAK_SAMPLE_SECONDS', 30),
  pg: (env.SOAK_PG ?? 'private') as 'private' | 'shared',
  pgAdminUrl: env.SOAK_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  pgCluster: (env.SOAK_PG_CLUSTER ?? '15 main').split(' '),
  pm2: env.PM2_BIN ?? 'pm2',
  /** NOTIFY_ALERT_INTERVAL_MS for the stack: short, so a few seconds' outage is seen by the alert checks. */
  alertIntervalMs: num('SOAK_ALERT_INTERVAL_MS', 1000),
  /** How long Redis and PostgreSQL stay down: several alert checks must land inside the outage. */
  redisDownMs: num('SOAK_REDIS_DOWN_MS', 3000),
  pgDownMs: num('SOAK_PG_DOWN_MS', 2000),
};
const ROOT = path.resolve(import.meta.dirname, '..');
const PAIRS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const say = (msg: string) => process.stdout.write(`[soak +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<number> {
  const start = Date.now();
  for (;;) {
    try { if (await check()) return Date.now() - start; } catch { /* not yet */ }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------- services: Redis, PostgreSQL, PM2

class RedisServer {
  private child?: ChildProcess;
  constructor(readonly port: number, private readonly dir: string) {}
  get url() { return `redis://127.0.0.1:${this.port}`; }
  async start() {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    await until('redis', async () => { execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe' }); return true; }, 10_000, 100);
  }
  async stop() {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await done;
  }
}

/** `restart(pauseMs)` stops the server, leaves it down `pauseMs`, then starts it (waiting until it accepts connections). */
interface Postgres { adminUrl: string; dbUrl: string; restart(pauseMs: number): Promise<void>; stop(): Promise<void> }

async function privatePostgres(dir: string): Promise<Postgres> {
  const bin = path.join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1)!, 'bin');
  const data = path.join(dir, 'pgdata');
  mkdirSync(data);
  const { uid, gid } = os.userInfo().uid === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : os.userInfo();
  chmodSync(dir, 0o755);
  chownSync(data, uid, gid);
  const asPg = (cmd: string, args: string[]) => execFileSync(os.userInfo().uid === 0 ? 'runuser' : cmd, os.userInfo().uid === 0 ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe' });
  const port = await freePort();
  asPg(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (...a: string[]) => asPg(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(data, 'server.log'), '-w', ...a]);
  const start = () => ctl('-o', `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start');
  start();
  const adminUrl = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    adminUrl, dbUrl: `postgresql://postgres@127.0.0.1:${port}/sm_soak`,
    async restart(pauseMs) { ctl('-m', 'fast', 'stop'); await sleep(pauseMs); start(); },
    async stop() { try { ctl('-m', 'fast', 'stop'); } catch { /* already down */ } },
  };
}

function sharedPostgres(): Postgres {
  const name = `sm_soak_${Date.now().toString(36)}`;
  return {
    adminUrl: CFG.pgAdminUrl, dbUrl: Object.assign(new URL(CFG.pgAdminUrl), { pathname: `/${name}` }).toString(),
    async restart(pauseMs) {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', '--mode=fast', ...CFG.pgCluster, 'stop'], { stdio: 'pipe' });
      await sleep(pauseMs);
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CFG.pgCluster, 'start'], { stdio: 'pipe' });
    },
    async stop() {},
  };
}

interface Pm2Proc { name: string; pm_id: number; pid: number; pm2_env: { status: string; restart_time: number; unstable_restarts: number }; monit: { memory: number; cpu: number } }

function pm2(args: string[], extraEnv: Record<string, string>): string {
  return execFileSync(CFG.pm2, args, { cwd: ROOT, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString();
}

// ---------------------------------------------------------------- HTTP helpers

function api(base: string) {
  return async (method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(base + p, {
      method, signal: AbortSignal.timeout(15_000),
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* text */ }
    return { status: res.status, body: parsed };
  };
}

async function pool<T, R>(items: T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (next < items.length) { const i = next++; out[i] = await fn(items[i]!, i); } }));
  return out;
}

// ---------------------------------------------------------------- WebSocket clients that track what they got

class TrackedClient {
  readonly seqs = new Map<number, number>(); // seq → times received
  startSeq = -1;
  lastSeq = 0;
  reconnects = 0;
  gaps = 0;
  closes = new Map<number, number>();
  private ws?: WebSocket;
  private stopped = false;
  onSignal?: (seq: number, id: string) => void;

  constructor(readonly wsUrl: string, readonly token: string, readonly strategyId: string) {}

  connect(): Promise<void> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.wsUrl, { headers: { authorization: `Bearer ${this.token}` } });
      this.ws = ws;
      let welcomed = false;
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; seq?: number; signal?: { id: string } };
        if (m.type === 'WELCOME') {
          welcomed = true;
          if (this.startSeq < 0) { this.startSeq = m.seq!; this.lastSeq = m.seq!; } else ws.send(JSON.stringify({ type: 'RESUME', lastSeq: this.lastSeq }));
          resolve();
        } else if (m.type === 'SIGNAL') {
          this.seqs.set(m.seq!, (this.seqs.get(m.seq!) ?? 0) + 1);
          if (m.seq! > this.lastSeq) this.lastSeq = m.seq!;
          this.onSignal?.(m.seq!, m.signal!.id);
        } else if (m.type === 'GAP') this.gaps++;
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
        if (!welcomed) resolve();
        if (this.stopped) return;
        this.reconnects++;
        setTimeout(() => void this.connect(), 300 + Math.random() * 1500);
      });
    });
  }

  get open() { return this.ws?.readyState === WebSocket.OPEN; }
  stop() { this.stopped = true; this.ws?.terminate(); }
}

// ---------------------------------------------------------------- operator alerts: a signed-webhook receiver

interface AlertDelivery { id: string; type: string; key?: string; state?: string; at: number }

/**
 * The ADMIN's webhook endpoint. Production webhooks are https only, so it serves a self-signed certificate
 * for 127.0.0.1 that the stack trusts through NODE_EXTRA_CA_CERTS. Every post's signature is checked as
 * the README tells receivers to (HMAC-SHA256 of "<t>.<raw body>", t at most 5 minutes old); a bad one is 401.
 */
class AlertReceiver {
  readonly deliveries: AlertDelivery[] = [];
  invalidSignatures = 0;
  secret = '';
  private server?: https.Server;
  constructor(private readonly dir: string) {}

  /** Starts the receiver; returns its URL and the certificate file the stack must trust. */
  async start(): Promise<{ url: string; caFile: string }> {
    const keyFile = path.join(this.dir, 'receiver.key'), caFile = path.join(this.dir, 'receiver.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    this.server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => { body += c; });
      req.on('end', () => {
        if (!this.secret || !AlertReceiver.verify(req.headers['x-signal-marketplace-signature'], body, this.secret)) { this.invalidSignatures++; res.writeHead(401).end(); return; }
        try {
          const e = JSON.parse(body) as { id: string; type: string; data?: { key?: string; state?: string } };
          this.deliveries.push({ id: e.id, type: e.type, key: e.data?.key, state: e.data?.state, at: Date.now() });
          res.writeHead(200).end();
        } catch { this.invalidSignatures++; res.writeHead(400).end(); }
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/soak-alerts`, caFile };
  }

  /** True when `header` signs `rawBody` with `secret` and its t is at most `toleranceSeconds` old. */
  static verify(header: unknown, rawBody: string, secret: string, toleranceSeconds = 300): boolean {
    const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=')));
    const t = Number(parts.t);
    if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
    const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
    const given = Buffer.from(parts.v1 ?? '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Distinct event ids per (condition, raised|cleared), with when each was first received (s since the soak's start). */
  summary(key: string) {
    const first = new Map<string, AlertDelivery>();
    for (const d of this.deliveries) if (d.type === 'admin.alert' && d.key === key && !first.has(d.id)) first.set(d.id, d);
    const of = (state: string) => [...first.values()].filter((d) => d.state === state);
    return { raised: of('raised').length, cleared: of('cleared').length, receivedAt: [...first.values()].map((d) => `${d.state} +${Math.round((d.at - t0) / 1000)}s`) };
  }

  async stop() { const s = this.server; if (!s) return; s.closeAllConnections(); await new Promise((r) => s.close(r)); }
}

// ---------------------------------------------------------------- the soak

interface Accepted { id: string; seq: number; strategyId: string; acceptedAt: number }

async function main() {
  // The private PostgreSQL runs as user postgres, which must reach its data directory: a temp dir that
  // others cannot traverse (some machines have /tmp at 0700) falls back to /var/tmp.
  const tmpBase = env.SOAK_TMPDIR ?? ((statSync(os.tmpdir()).mode & 0o001) ? os.tmpdir() : '/var/tmp');
  const runDir = mkdtempSync(path.join(tmpBase, 'sm-soak-'));
  const logDir = path.join(runDir, 'logs');
  mkdirSync(logDir);
  say(`run dir ${runDir}; ${CFG.minutes} min, ${CFG.wsClients} WS clients, ${CFG.subscriptions} subscriptions, ${CFG.signalsPerSecond} signals/s, PostgreSQL ${CFG.pg}`);
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => { for (const f of cleanups.splice(0).reverse()) { try { await f(); } catch (e) { say(`cleanup: ${(e as Error).message}`); } } };
  process.once('SIGINT', () => { void cleanup().then(() => process.exit(130)); });
  try {
    // Services
    const pgs = CFG.pg === 'private' ? await privatePostgres(runDir) : sharedPostgres();
    cleanups.push(() => pgs.stop());
    const admin = new pg.Client({ connectionString: pgs.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${new URL(pgs.dbUrl).pathname.slice(1)}"`);
    await admin.end();
    await migrate(pgs.dbUrl, createLogger('warn'));
    const redis = new RedisServer(await freePort(), runDir);
    await redis.start();
    cleanups.push(() => redis.stop());
    const fake = new FakeBinance({ duplicateClientIdMode: 'binance', weightLimitPerMinute: 1e9 });
    const exchangeUrl = await fake.start();
    cleanups.push(() => fake.stop());
    const receiver = new AlertReceiver(runDir);
    const hook = await receiver.start();
    cleanups.push(() => receiver.stop());

    // PM2
    const [port, execPort, capPort] = [await freePort(), await freePort(), await freePort()];
    const pm2Env: Record<string, string> = {
      PM2_HOME: path.join(runDir, 'pm2'), LOG_DIR: logDir, API_INSTANCES: String(CFG.apiInstances), PORT: String(port),
      EXECUTOR_HEALTH_PORT: String(execPort), CAPTURER_HEALTH_PORT: String(capPort),
      DATABASE_URL: pgs.dbUrl, REDIS_URL: redis.url, REDIS_PREFIX: `soak:${randomUUID().slice(0, 8)}:`,
      JWT_SECRET: randomBytes(32).toString('hex'), KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: path.join(runDir, 'data'), TRADING_MODE: 'live', EXCHANGE_URL_BINANCE: exchangeUrl,
      LOGIN_RATE_LIMIT_PER_MINUTE: '100000', WEBHOOK_RATE_LIMIT_PER_MINUTE: '100000', LOG_LEVEL: 'info', TRUST_PROXY: 'loopback',
      // Operator alerts: checked often enough to see a few seconds' outage; the admin's webhook is the
      // receiver above (a loopback address, https with a certificate the processes trust).
      NOTIFY_ALERT_INTERVAL_MS: String(CFG.alertIntervalMs), NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NODE_EXTRA_CA_CERTS: hook.caFile,
    };
    pm2(['start', 'ecosystem.config.js', '--env', 'production'], pm2Env);
    cleanups.push(() => { pm2(['kill'], pm2Env); });
    const base = `http://127.0.0.1:${port}`;
    const healthUrls = { api: `${base}/health`, executor: `http://127.0.0.1:${execPort}/health`, capturer: `http://127.0.0.1:${capPort}/health` };
    const allHealthy = async () => (await Promise.all(Object.values(healthUrls).map(async (u) => (await fetch(u, { signal: AbortSignal.timeout(3000) })).status === 200))).every(Boolean);
    say(`stack up in ${await until('healthy stack', allHealthy, 120_000)} ms on ${base}`);
    const call = api(base);

    // The operator: an ADMIN made the documented way, with the receiver as its notification webhook.
    const adminEmail = `admin-${randomUUID().slice(0, 12)}@soak.local`, adminPassword = randomBytes(12).toString('hex');
    execFileSync('npx', ['tsx', 'scripts/create-admin.ts', adminEmail, adminPassword], { cwd: ROOT, env: { ...process.env, ...pm2Env, DATA_DIR: path.join(runDir, 'admin-data') }, stdio: 'pipe' });
    const adminLogin = await call('POST', '/api/auth/login', { email: adminEmail, password: adminPassword });
    if (adminLogin.status !== 200 || adminLogin.body.user?.role !== 'ADMIN') throw new Error(`admin login ${adminLogin.status} ${JSON.stringify(adminLogin.body)}`);
    const adminToken = adminLogin.body.token as string;
    const saved = await call('POST', '/api/notifications/webhook', { url: hook.url }, adminToken);
    if (saved.status !== 201 || typeof saved.body.secret !== 'string') throw new Error(`admin webhook ${saved.status} ${JSON.stringify(saved.body)}`);
    receiver.secret = saved.body.secret;
    say(`admin ${adminEmail} notified at ${hook.url}`);

    // Seed: authors + strategies, subscribers with live keys, WS clients
    const register = async (role: string) => {
      for (let i = 0; ; i++) {
        const r = await call('POST', '/api/auth/register', { email: `${role.toLowerCase()}-${randomUUID().slice(0, 12)}@soak.local`, password: 'correct horse battery', role });
        if (r.status === 201) return r.body as { token: string; user: { id: string } };
        if (i > 5) throw new Error(`register ${r.status} ${JSON.stringify(r.body)}`);
        await sleep(500);
      }
    };
    const strategies = await pool(Array.from({ length: CFG.strategies + 1 }, (_, i) => i), 5, async (i) => {
      const author = await register('AUTHOR');
      const r = await call('POST', '/api/strategies', { name: i === CFG.strategies ? 'soak probe' : `soak ${i}`, pairs: PAIRS }, author.token);
      if (r.status !== 201) throw new Error(`strategy ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body.id as string, token: author.token };
    });
    const probe = strategies.pop()!;
    const subscribers = await pool(Array.from({ length: CFG.subscriptions }, (_, i) => i), 8, async (i) => {
      const u = await register('USER');
      const s = strategies[i % strategies.length]!;
      const apiKey = `soak-${randomUUID()}`, apiSecret = randomBytes(24).toString('hex');
      fake.addAccount(apiKey, apiSecret, { USDT: 10_000_000, BTC: 1000, ETH: 10_000, SOL: 100_000 });
      const r = await call('POST', '/api/subscriptions', { strategyId: s.id, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 20 }, apiKey, apiSecret }, u.token);
      if (r.status !== 201) throw new Error(`subscription ${r.status} ${JSON.stringify(r.body)}`);
      return { token: u.token, strategyId: s.id, subscriptionId: r.body.id as string };
    });
    const probeUser = await register('USER');
    fake.addAccount('probe-key-000000', 'probe-secret-000000', { USDT: 10_000_000, BTC: 1000 });
    await call('POST', '/api/subscriptions', { strategyId: probe.id, exchange: 'binance', allPairs: true, sizing: { mode: 'quote', amount: 20 }, apiKey: 'probe-key-000000', apiSecret: 'probe-secret-000000' }, probeUser.token);
    say(`seeded ${strategies.length} strategies, ${subscribers.length} subscriptions`);

    const wsUrl = base.replace('http', 'ws') + '/ws/signals';
    const clients = Array.from({ length: CFG.wsClients }, (_, i) => { const s = subscribers[i % subscribers.length]!; return new TrackedClient(wsUrl, s.token, s.strategyId); });
    await pool(clients, 50, (c) => c.connect());
    const probeClient = new TrackedClient(wsUrl, probeUser.token, probe.id);
    const probeSeen = new Set<string>();
    probeClient.onSignal = (_seq, id) => probeSeen.add(id);
    await probeClient.connect();
    cleanups.push(() => { for (const c of [...clients, probeClient]) c.stop(); });
    say(`${clients.filter((c) => c.open).length} WebSocket clients connected`);

    // Steady ingestion: each strategy alternates OPEN LONG / CLOSE LONG per pair; retries keep the idempotency key.
    const accepted: Accepted[] = [];
    const ingest = { attempts: 0, errors: 0, refused: 0, gaveUp: 0, byStatus: {} as Record<string, number> };
    const open = new Map<string, boolean>();
    const publish = async (s: { id: string; token: string }, pair: string, action: 'OPEN' | 'CLOSE'): Promise<Accepted | undefined> => {
      const key = randomUUID();
      const deadline = Date.now() + 60_000;
      for (;;) {
        ingest.attempts++;
        let r: { status: number; body: any };
        try { r = await call('POST', '/api/signals', { strategyId: s.id, pair, action, direction: 'LONG', price: Number(fake.price(pair.replace('/', ''))), idempotencyKey: key }, s.token); } catch (e) { r = { status: 0, body: (e as Error).message }; }
        ingest.byStatus[r.status] = (ingest.byStatus[r.status] ?? 0) + 1;
        if (r.status === 201 || r.status === 200) return { id: r.body.id, seq: r.body.seq, strategyId: s.id, acceptedAt: Date.now() };
        if (r.status === 409 || r.status === 400) { ingest.refused++; return undefined; }
        ingest.errors++;
        if (Date.now() > deadline) { ingest.gaveUp++; return undefined; }
        await sleep(500);
      }
    };
    let ingesting = true;
    let inflight = 0;
    const ingestLoop = (async () => {
      let n = 0;
      while (ingesting) {
        const s = strategies[n % strategies.length]!;
        const pair = PAIRS[Math.floor(n / strategies.length) % PAIRS.length]!;
        n++;
        const k = `${s.id}|${pair}`;
        if (inflight < 50) {
          inflight++;
          const action = open.get(k) ? 'CLOSE' : 'OPEN';
          open.set(k, !open.get(k)); // optimistic; a refused one flips back
          void publish(s, pair, action).then((a) => { if (a) accepted.push(a); else open.set(k, action === 'CLOSE'); }).finally(() => { inflight--; });
        }
        await sleep(1000 / CFG.signalsPerSecond);
      }
    })();

    // Samples: pm2 memory/restarts, health, load
    const samples: { t: number; load: number; procs: { name: string; pmId: number; memMB: number; restarts: number; status: string }[]; healthy: boolean }[] = [];
    const sample = async () => {
      const list = JSON.parse(pm2(['jlist'], pm2Env)) as Pm2Proc[];
      samples.push({
        t: Math.round((Date.now() - t0) / 1000), load: os.loadavg()[0]!, healthy: await allHealthy().catch(() => false),
        procs: list.map((p) => ({ name: p.name, pmId: p.pm_id, memMB: Math.round(p.monit.memory / 2 ** 20), restarts: p.pm2_env.restart_time, status: p.pm2_env.status })),
      });
    };
    await sample();
    const sampler = setInterval(() => void sample().catch(() => {}), CFG.sampleSeconds * 1000);

    // Failures, spread over the run; recovery = from injection until all /health are 200 and a probe signal
    // published after the injection has been accepted and delivered over WebSocket.
    const recoveries: { failure: string; at: number; downMs: number; healthyAfterMs: number; e2eAfterMs: number }[] = [];
    const recover = async (failure: string, started: number, downMs: number) => {
      await until('health after ' + failure, allHealthy, 300_000, 200);
      const healthyAt = Date.now();
      let e2eAt = 0;
      await until('probe delivery after ' + failure, async () => {
        const pair = PAIRS[0]!;
        const k = `probe|${pair}`;
        const a = await publish(probe, pair, open.get(k) ? 'CLOSE' : 'OPEN');
        if (!a) return false;
        open.set(k, !open.get(k));
        const deadline = Date.now() + 3000;
        while (!probeSeen.has(a.id) && Date.now() < deadline) await sleep(20);
        if (probeSeen.has(a.id)) { e2eAt = Date.now(); return true; }
        return false;
      }, 300_000, 100);
      const r = { failure, at: Math.round((started - t0) / 1000), downMs, healthyAfterMs: healthyAt - started, e2eAfterMs: e2eAt - started };
      recoveries.push(r);
      say(`${failure}: healthy after ${r.healthyAfterMs} ms, end-to-end after ${r.e2eAfterMs} ms`);
    };
    const pm2List = () => JSON.parse(pm2(['jlist'], pm2Env)) as Pm2Proc[];
    const failures: [number, string, () => Promise<number>][] = [
      [0.2, 'Redis restarted', async () => { const s = Date.now(); await redis.stop(); await sleep(CFG.redisDownMs); await redis.start(); return Date.now() - s; }],
      [0.4, 'PostgreSQL restarted', async () => { const s = Date.now(); await pgs.restart(CFG.pgDownMs); return Date.now() - s; }],
      [0.6, 'one sm-api worker killed (SIGKILL)', async () => { process.kill(pm2List().find((p) => p.name === 'sm-api')!.pid, 'SIGKILL'); return 0; }],
      [0.8, 'sm-executor killed (SIGKILL)', async () => { process.kill(pm2List().find((p) => p.name === 'sm-executor')!.pid, 'SIGKILL'); return 0; }],
    ];
    const injectedKills = 2;
    const durationMs = CFG.minutes * 60_000;
    const runStart = Date.now();
    for (const [at, name, inject] of failures) {
      const wait = runStart + at * durationMs - Date.now();
      if (wait > 0) await sleep(wait);
      say(`injecting: ${name}`);
      const started = Date.now();
      const downMs = await inject();
      await recover(name, started, downMs);
    }
    const left = runStart + durationMs - Date.now();
    if (left > 0) await sleep(left);

    // Drain, then count
    ingesting = false;
    await ingestLoop;
    await until('ingestion drained', async () => inflight === 0, 120_000);
    say(`ingestion stopped: ${accepted.length} signals accepted`);
    const db = new pg.Client({ connectionString: pgs.dbUrl });
    await db.connect();
    const pendingAfter = await until('executor drained', async () => Number((await db.query(`SELECT count(*) FROM "ExecutionLog" WHERE status = 'PENDING'`)).rows[0].count) === 0, 180_000, 1000).catch(() => -1);
    await sleep(5000); // last WebSocket frames
    // Operator alerts: each outage's clear is sent once the condition is seen gone; wait for them (bounded).
    await until('alert clears delivered', async () => receiver.summary('redis').cleared > 0 && receiver.summary('postgres').cleared > 0, 60_000, 500).catch(() => {});
    const alertState = await call('GET', '/api/admin/alerts', undefined, adminToken);
    const alerts = {
      redis: receiver.summary('redis'), postgres: receiver.summary('postgres'), invalidSignatures: receiver.invalidSignatures,
      deliveries: receiver.deliveries.length, distinctEvents: new Set(receiver.deliveries.map((d) => d.id)).size,
      byKey: receiver.deliveries.reduce<Record<string, number>>((m, d) => { const k = `${d.key}:${d.state}`; m[k] = (m[k] ?? 0) + 1; return m; }, {}),
      stateAtEnd: alertState.status === 200 ? (alertState.body.alerts as { key: string; active: boolean; value: number }[]).map((a) => ({ key: a.key, active: a.active, value: a.value })) : alertState.status,
    };
    clearInterval(sampler);
    await sample();
    const jsonStore = await storeConsistency(pgs.dbUrl, path.join(runDir, 'data'));

    const report = await buildReport({ accepted, clients, subscribers, fake, db, samples, recoveries, ingest, injectedKills, logDir, pendingAfter, jsonStore, alerts });
    await db.end();
    const outDir = path.join(ROOT, 'test-output');
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ config: CFG, ...report }, null, 2));
    process.stdout.write('\n' + markdown(report) + `\nfull report: ${file}\n`);
    process.exitCode = report.verdict.ok ? 0 : 1;
  } finally {
    await cleanup();
    if (!env.SOAK_KEEP) rmSync(runDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

/**
 * The JSON store (written by sm-executor, the `store` role) against PostgreSQL once it has caught up:
 * every signal in metadata, every open and completed trade in its file, field by field.
 */
async function storeConsistency(dbUrl: string, dataDir: string): Promise<{ ok: boolean; differences: string[]; checked: unknown; caughtUpMs: number }> {
  const db = await openDatabase({ databaseUrl: dbUrl, dataDir, poolMax: 2, migrate: false, log: createLogger('warn') });
  try {
    const reader = new SignalReader(db.prisma);
    const last = await reader.lastSeq();
    const fileSeq = () => { try { return JSON.parse(readFileSync(path.join(dataDir, 'signals', 'metadata.json'), 'utf8')).lastSeq as number; } catch { return -1; } };
    const caughtUpMs = await until('JSON store caught up', async () => fileSeq() >= last, 60_000, 250).catch(() => -1);
    const r = await checkConsistency(dataDir, reader);
    return { ok: r.ok, differences: r.differences.slice(0, 20), checked: r.checked, caughtUpMs };
  } finally { await db.stop(); }
}

async function buildReport(o: {
  accepted: Accepted[]; clients: TrackedClient[]; subscribers: { strategyId: string; subscriptionId: string }[]; fake: FakeBinance; db: pg.Client;
  samples: { t: number; load: number; procs: { name: string; pmId: number; memMB: number; restarts: number; status: string }[]; healthy: boolean }[];
  recoveries: unknown[]; ingest: unknown; injectedKills: number; logDir: string; pendingAfter: number;
  jsonStore: Awaited<ReturnType<typeof storeConsistency>>;
  alerts: { redis: { raised: number; cleared: number; receivedAt: string[] }; postgres: { raised: number; cleared: number; receivedAt: string[] }; invalidSignatures: number; deliveries: number; distinctEvents: number; byKey: Record<string, number>; stateAtEnd: unknown };
}) {
  // WebSocket deliveries: every signal of the client's strategy after its first WELCOME, exactly once.
  const byStrategy = new Map<string, Accepted[]>();
  for (const a of o.accepted) byStrategy.set(a.strategyId, [...(byStrategy.get(a.strategyId) ?? []), a]);
  let expected = 0, lost = 0, duplicates = 0, gaps = 0, reconnects = 0;
  const closeCodes: Record<string, number> = {};
  for (const c of o.clients) {
    for (const a of byStrategy.get(c.strategyId) ?? []) { if (a.seq <= c.startSeq) continue; expected++; if (!c.seqs.has(a.seq)) lost++; }
    for (const n of c.seqs.values()) if (n > 1) duplicates += n - 1;
    gaps += c.gaps; reconnects += c.reconnects;
    for (const [code, n] of c.closes) closeCodes[code] = (closeCodes[code] ?? 0) + n;
  }

  // Orders: one ExecutionLog row and at most one exchange order per (subscription, signal) entry leg.
  const subsByStrategy = new Map<string, string[]>();
  for (const s of o.subscribers) subsByStrategy.set(s.strategyId, [...(subsByStrategy.get(s.strategyId) ?? []), s.subscriptionId]);
  const ours = new Set(o.subscribers.map((s) => s.subscriptionId)); // leaves out the probe subscription
  const rows = ((await o.db.query(`SELECT "subscriptionId", "signalId", status FROM "ExecutionLog"`)).rows as { subscriptionId: string; signalId: string; status: string }[]).filter((r) => ours.has(r.subscriptionId));
  const rowKeys = new Map<string, number>();
  const byStatus: Record<string, number> = {};
  for (const r of rows) { rowKeys.set(`${r.subscriptionId}|${r.signalId}`, (rowKeys.get(`${r.subscriptionId}|${r.signalId}`) ?? 0) + 1); byStatus[r.status] = (byStatus[r.status] ?? 0) + 1; }
  const orders = o.fake.orders().filter((x) => x.apiKey.startsWith('soak-'));
  const perCid = new Map<string, number>();
  for (const ord of orders) perCid.set(ord.clientOrderId, (perCid.get(ord.clientOrderId) ?? 0) + 1);
  let expectedExecutions = 0, missingRows = 0, missingOrders = 0;
  for (const a of o.accepted) for (const sub of subsByStrategy.get(a.strategyId) ?? []) {
    expectedExecutions++;
    if (!rowKeys.has(`${sub}|${a.id}`)) missingRows++;
    else if (!perCid.has(clientOrderId(a.id, sub, 'entry'))) missingOrders++;
  }
  const duplicateOrders = [...perCid.values()].filter((n) => n > 1).reduce((s, n) => s + n - 1, 0);
  const duplicateRows = [...rowKeys.values()].filter((n) => n > 1).length;

  // Processes: restarts and memory (median of the first vs the last third of the samples).
  const names = [...new Set(o.samples.flatMap((s) => s.procs.map((p) => `${p.name}#${p.pmId}`)))];
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : 0; };
  const last = o.samples.at(-1)!;
  const processes = names.map((n) => {
    const series = o.samples.map((s) => s.procs.find((p) => `${p.name}#${p.pmId}` === n)?.memMB ?? 0).filter((m) => m > 0);
    const third = Math.max(1, Math.floor(series.length / 3));
    return { process: n, restarts: last.procs.find((p) => `${p.name}#${p.pmId}` === n)?.restarts ?? 0, memFirstMB: median(series.slice(0, third)), memLastMB: median(series.slice(-third)), memMaxMB: Math.max(...series), series };
  });
  const restarts = processes.reduce((s, p) => s + p.restarts, 0);

  // Error log lines (pino level >= 50) per app, with the most frequent messages.
  const errors: Record<string, number> = {};
  const messages: Record<string, number> = {};
  // An error line belongs to an injected failure when it is logged between the injection and 10 s after the
  // stack recovered end to end; anything else is reported line by line (pino's `time` is epoch ms).
  const windows = (o.recoveries as { at: number; e2eAfterMs: number }[]).map((r) => [t0 + r.at * 1000 - 1000, t0 + r.at * 1000 + r.e2eAfterMs + 10_000]);
  const inFailureWindow = (time: unknown) => typeof time === 'number' && windows.some(([a, b]) => time >= a! && time <= b!);
  const outsideFailures: string[] = [];
  for (const f of readdirSync(o.logDir)) {
    for (const line of readFileSync(path.join(o.logDir, f), 'utf8').split('\n')) {
      if (!line.startsWith('{')) { if (line.trim() && f.includes('.err.')) { errors[f] = (errors[f] ?? 0) + 1; messages[line.slice(0, 120)] = (messages[line.slice(0, 120)] ?? 0) + 1; } continue; }
      try {
        const j = JSON.parse(line);
        if (j.level >= 50) {
          errors[f] = (errors[f] ?? 0) + 1;
          messages[j.msg] = (messages[j.msg] ?? 0) + 1;
          if (!inFailureWindow(j.time)) outsideFailures.push(`${f} +${Math.round((j.time - t0) / 1000)}s ${j.msg}`);
        }
      } catch { /* partial line */ }
    }
  }
  const topErrors = Object.entries(messages).sort((a, b) => b[1] - a[1]).slice(0, 10);
  const load = o.samples.map((s) => s.load);
  const verdict = {
    restartsCausedByErrors: restarts - o.injectedKills,
    lostDeliveries: lost, duplicateDeliveries: duplicates, duplicateOrders, missingExecutions: missingRows,
    jsonStoreConsistent: o.jsonStore.ok,
    // Exactly one raised and one cleared per injected outage (distinct event ids), every delivery correctly signed.
    redisAlert: o.alerts.redis.raised === 1 && o.alerts.redis.cleared === 1,
    postgresAlert: o.alerts.postgres.raised === 1 && o.alerts.postgres.cleared === 1,
    alertSignaturesInvalid: o.alerts.invalidSignatures,
  };
  return {
    durationMinutes: CFG.minutes, loadAvg1m: { mean: +(load.reduce((s, x) => s + x, 0) / load.length).toFixed(2), max: +Math.max(...load).toFixed(2) },
    ingest: o.ingest, signalsAccepted: o.accepted.length,
    deliveries: { expected, lost, duplicates, gaps, reconnects, closeCodes },
    orders: { expectedExecutions, executionRows: rows.length, byStatus, missingRows, duplicateRows, exchangeOrders: orders.length, duplicateOrders, successWithoutExchangeOrder: missingOrders, pendingAfterDrainMs: o.pendingAfter },
    processes, restarts, injectedKills: o.injectedKills, errors, topErrors, errorsOutsideFailures: outsideFailures.slice(0, 50), errorsOutsideFailureCount: outsideFailures.length, recoveries: o.recoveries, jsonStore: o.jsonStore, alerts: o.alerts,
    verdict: {
      ...verdict,
      ok: verdict.restartsCausedByErrors <= 0 && lost === 0 && duplicates === 0 && duplicateOrders === 0 && missingRows === 0 && o.jsonStore.ok
        && verdict.redisAlert && verdict.postgresAlert && verdict.alertSignaturesInvalid === 0,
    },
  };
}

function markdown(r: Awaited<ReturnType<typeof buildReport>>): string {
  const rows = [
    `| Soak (${r.durationMinutes} min, load avg ${r.loadAvg1m.mean} mean / ${r.loadAvg1m.max} max) | Result |`, '|---|---|',
    `| Signals accepted | ${r.signalsAccepted} |`,
    `| PM2 restarts (injected kills ${r.injectedKills}) | ${r.restarts} → caused by errors: ${r.verdict.restartsCausedByErrors} |`,
    `| WS deliveries expected / lost / duplicate / GAP | ${r.deliveries.expected} / ${r.deliveries.lost} / ${r.deliveries.duplicates} / ${r.deliveries.gaps} |`,
    `| WS reconnects (close codes) | ${r.deliveries.reconnects} (${JSON.stringify(r.deliveries.closeCodes)}) |`,
    `| Executions expected / logged / missing / duplicate rows | ${r.orders.expectedExecutions} / ${r.orders.executionRows} / ${r.orders.missingRows} / ${r.orders.duplicateRows} |`,
    `| Execution status | ${JSON.stringify(r.orders.byStatus)} |`,
    `| Exchange orders / duplicate orders (same clientOrderId) | ${r.orders.exchangeOrders} / ${r.orders.duplicateOrders} |`,
    `| JSON store vs PostgreSQL after the drain (caught up in ${r.jsonStore.caughtUpMs} ms) | ${r.jsonStore.ok ? 'consistent' : `${r.jsonStore.differences.length} differences: ${r.jsonStore.differences.slice(0, 3).join('; ')}`} ${JSON.stringify(r.jsonStore.checked)} |`,
    `| Error log lines (outside the injected failures) | ${JSON.stringify(r.errors)} (${r.errorsOutsideFailureCount}) |`,
    `| Operator alerts Redis / PostgreSQL: raised, cleared (distinct ids; received at) | ${r.alerts.redis.raised}, ${r.alerts.redis.cleared} (${r.alerts.redis.receivedAt.join(', ')}) / ${r.alerts.postgres.raised}, ${r.alerts.postgres.cleared} (${r.alerts.postgres.receivedAt.join(', ')}) |`,
    `| Alert webhook posts / distinct events / bad signatures | ${r.alerts.deliveries} / ${r.alerts.distinctEvents} / ${r.alerts.invalidSignatures} ${JSON.stringify(r.alerts.byKey)} |`,
    ...r.processes.map((p) => `| Memory ${p.process} (first third → last third, max) | ${p.memFirstMB} → ${p.memLastMB} MB, max ${p.memMaxMB} MB; restarts ${p.restarts} |`),
    ...(r.recoveries as { failure: string; downMs: number; healthyAfterMs: number; e2eAfterMs: number }[]).map((x) => `| Recovery: ${x.failure} (down ${x.downMs} ms) | healthy after ${x.healthyAfterMs} ms, signal delivered end-to-end after ${x.e2eAfterMs} ms |`),
  ];
  return rows.join('\n') + `\n\nTop error messages: ${JSON.stringify(r.topErrors)}\nError lines outside the injected failures: ${JSON.stringify(r.errorsOutsideFailures)}\nVerdict: ${JSON.stringify(r.verdict)}\n`;
}

if (!existsSync(path.join(ROOT, 'ecosystem.config.js'))) throw new Error('run from the repository');
main().catch((err) => { process.stderr.write(`soak failed: ${(err as Error).stack}\n`); process.exit(1); });
