/**
 * The embedded database (no DATABASE_URL): PGlite in a worker thread behind a password-checking unix
 * socket under DATA_DIR. One shared PostgreSQL session must behave like separate connections to the app:
 * no prepared statement or transaction of one connection reaches the next; strangers cannot connect;
 * data files are private; one process owns a DATA_DIR; create-admin goes through the running server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, lstatSync, readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { App } from '../src/app.js';
import { DataDirInUseError, openDatabase } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { client, registerUser, seedStrategy, startTestApp, uniqueEmail, uniquePair } from './support/app.js';
import { waitFor } from './support/wait.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Runs a command to its end; returns exit code, output and how long it took. */
function run(cmd: string, args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; out: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, ms: Date.now() - started }); });
  });
}

const embeddedEnv = (extra: Record<string, string | undefined> = {}) => ({
  DATABASE_URL: undefined, DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-embedded-')), ...extra,
});

describe('embedded database (PGlite in a worker, behind a private socket)', function () {
  this.timeout(120_000);
  let app: App;
  let dataDir: string;

  before(async () => {
    const env = embeddedEnv({ ROLES: 'api,executor,store', TRADING_MODE: 'paper', EXECUTOR_POLL_MS: '100' });
    dataDir = env.DATA_DIR!;
    app = await startTestApp(env);
  });
  after(async () => { await app?.stop(); });

  it('after a register with a taken email (409) on the embedded database, the executor still claims and finishes the next signal', async () => {
    assert.equal(app.db.embedded, true);
    const api = client(app);
    const { strategyId, author } = await seedStrategy(app);
    const user = await registerUser(app);
    const sub = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey: 'paperkey-123456', apiSecret: 'papersecret-123456' }, user.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    // A first signal runs, so the executor's named claim statement exists in the shared session.
    const pair = uniquePair();
    const first = await api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 10 }, author.token);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const done = (signalId: string) => waitFor(`execution of ${signalId}`, async () => {
      const row = await app.db.prisma.executionLog.findFirst({ where: { signalId, subscriptionId: sub.body.id } });
      return row && row.status !== 'PENDING' ? row : null;
    });
    await done(first.body.id);

    const taken = await api.post('/api/auth/register', { email: user.user.email, password: 'another password 1', role: 'USER' });
    assert.equal(taken.status, 409);

    const second = await api.post('/api/signals', { strategyId, pair, action: 'CLOSE', direction: 'LONG', price: 11 }, author.token);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const row = await done(second.body.id);
    assert.equal(row.status, 'SUCCESS', `${row.status} ${row.error}`);
  });

  it('a 2-second query on the embedded database leaves the main event loop free (PGlite runs in a worker thread)', async () => {
    // The longest gap between 10 ms timer ticks (monitorEventLoopDelay can miss a single long stall).
    let last = performance.now();
    let maxMs = 0;
    const iv = setInterval(() => { const t = performance.now(); maxMs = Math.max(maxMs, t - last); last = t; }, 10);
    const started = Date.now();
    try {
      await app.db.pool.query('SELECT pg_sleep(2)'); // on the main thread this would block every timer and socket for 2 s
      await new Promise((r) => setTimeout(r, 30));
    } finally { clearInterval(iv); }
    const took = Date.now() - started;
    assert.ok(took >= 1900, `the query ran for ${took} ms`);
    assert.ok(maxMs < 1000, `main event loop stalled ${maxMs.toFixed(0)} ms during a ${took} ms query`);
  });

  it('a failed transaction on one connection leaves no aborted transaction or prepared statement for the next connection', async () => {
    const url = app.db.url;
    const a = new pg.Client({ connectionString: url });
    await a.connect();
    await a.query({ name: 'probe-stmt', text: 'SELECT 1 AS one' });
    await a.query('BEGIN');
    await assert.rejects(a.query('SELECT 1/0'));
    await a.end(); // leaves mid-transaction, in the aborted state
    const b = new pg.Client({ connectionString: url });
    await b.connect();
    try {
      const r = await b.query({ name: 'probe-stmt', text: 'SELECT 2 AS two' }); // would be "already exists" if a's statement survived
      assert.deepEqual(r.rows, [{ two: 2 }]);
      const tx = await b.query('SELECT count(*)::int AS n FROM "User"'); // would be "current transaction is aborted"
      assert.equal(typeof tx.rows[0].n, 'number');
    } finally { await b.end(); }
  });

  it('the embedded socket refuses a connection without the generated password', async () => {
    const good = new URL(app.db.url);
    assert.ok(good.password.length >= 20, 'a generated password is part of the URL');
    const host = good.searchParams.get('host')!;
    assert.ok(host.startsWith(dataDir), 'the socket lives under DATA_DIR');
    for (const password of [undefined, 'postgres', 'wrong-password']) {
      const c = new pg.Client({ host, user: 'postgres', database: 'postgres', password });
      c.on('error', () => {});
      await assert.rejects(c.connect().then(() => c.query('SELECT 1')), /password authentication failed|password/i, `password ${password} must be refused`);
      await c.end().catch(() => {});
    }
    const ok = new pg.Client({ connectionString: app.db.url });
    await ok.connect();
    try { assert.deepEqual((await ok.query('SELECT 1 AS x')).rows, [{ x: 1 }]); } finally { await ok.end(); }
    // The socket's directory is private to this user: other local users cannot reach the socket at all.
    assert.equal(lstatSync(host).mode & 0o777, 0o700);
  });

  it('files under DATA_DIR are 0600 and directories 0700', async () => {
    await registerUser(app); // some writes, so PGlite has touched its files
    const wrong: string[] = [];
    let files = 0;
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) continue;
        if (st.isDirectory()) { if ((st.mode & 0o777) !== 0o700) wrong.push(`${p} ${(st.mode & 0o777).toString(8)}`); walk(p); }
        else if (!st.isSocket()) { files++; if ((st.mode & 0o777) !== 0o600) wrong.push(`${p} ${(st.mode & 0o777).toString(8)}`); }
      }
    };
    walk(dataDir);
    assert.ok(files > 100, `PGlite's files are there (${files})`);
    assert.deepEqual(wrong.slice(0, 10), []);
  });

  it('a second server on the same DATA_DIR refuses at once with a clear message', async () => {
    // In this process: the refusal comes from the lock, before PGlite, migrations or anything slow.
    const started = Date.now();
    await assert.rejects(openDatabase({ dataDir, poolMax: 1, migrate: true, log: createLogger('silent') }), DataDirInUseError);
    assert.ok(Date.now() - started < 2000, `refused in ${Date.now() - started} ms`);
    // Another process (npm start's entry point): exits 1 with one line naming DATA_DIR and the owner's pid.
    const r = await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['src/main.ts'], {
      DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test', LOG_LEVEL: 'silent', ROLES: 'api',
      JWT_SECRET: 'x'.repeat(64), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`^start-up refused: DATA_DIR ${dataDir} is in use by another process \\(pid ${process.pid}\\)`, 'm'), r.out);
    assert.doesNotMatch(r.out, /migrations applied|listening/);
    // and the running server is untouched
    assert.equal((await client(app).get('/health')).status, 200);
    assert.equal((await registerUser(app)).user.role, 'USER');
  });

  it('create-admin while the server runs creates an admin that can log in', async () => {
    const email = uniqueEmail('admin');
    const r = await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/create-admin.ts', email, 'admin password 123'], {
      DATABASE_URL: '', DATA_DIR: dataDir, NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(64), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /through the running server/);
    const login = await client(app).post('/api/auth/login', { email, password: 'admin password 123' });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user.role, 'ADMIN');
  });
});

describe('embedded database, no server running', function () {
  this.timeout(120_000);

  it('create-admin with no server running opens the database itself, and the next server sees the admin', async () => {
    const env = embeddedEnv();
    const email = uniqueEmail('admin');
    const r = await run(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/create-admin.ts', email, 'admin password 123'], {
      DATABASE_URL: '', DATA_DIR: env.DATA_DIR, NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(64), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /through the running server/);
    const app = await startTestApp(env);
    try {
      const login = await client(app).post('/api/auth/login', { email, password: 'admin password 123' });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      assert.equal(login.body.user.role, 'ADMIN');
      // the lock file names this process and is private
      const lock = JSON.parse(readFileSync(path.join(env.DATA_DIR!, 'pglite-server', 'server.json'), 'utf8'));
      assert.equal(lock.pid, process.pid);
    } finally { await app.stop(); }
  });
});
