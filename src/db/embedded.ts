/**
 * The embedded database (no DATABASE_URL), main-thread side: private DATA_DIR modes, the one-owner lock,
 * and the worker thread that runs PGlite behind a password-checking socket (embedded-worker.ts).
 *
 * DATA_DIR/pglite-server/ (0700) holds the socket `.s.PGSQL.5432` (a 0700 temp directory when DATA_DIR's
 * path is too long for a unix socket) and `server.json` (0600: pid, state,
 * the connection URL with the password generated at this start). A second process finding a live owner
 * refuses at once; `create-admin` reads the URL and writes through the running server.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';
import type { EmbeddedWorkerData } from './embedded-worker.js';

/** Thrown when another live process owns the DATA_DIR's embedded database. Its message is one clear line. */
export class DataDirInUseError extends Error {}

/** A running embedded database. */
export interface EmbeddedServer { url: string; stop(): Promise<void> }

interface LockFile { pid: number; state: 'starting' | 'ready'; startedAt: string; url?: string; address?: string }

const SOCKET_NAME = '.s.PGSQL.5432'; // node-postgres looks for <host dir>/.s.PGSQL.<port>, port 5432 by default
const MAX_SOCKET_PATH = 100; // sun_path is 108 bytes on Linux, 104 on macOS
const IDLE_IN_TX_MS = 30_000;
const START_TIMEOUT_MS = 120_000;
const held = new Set<string>(); // lock files this process owns

const runDirOf = (dataDir: string) => path.join(dataDir, 'pglite-server');
const lockPathOf = (dataDir: string) => path.join(runDirOf(dataDir), 'server.json');

/**
 * Makes DATA_DIR private: umask 077 for everything this process creates from now on (PGlite's files,
 * the JSON store, evidence, secrets), then files 0600 and directories 0700 for what is already there.
 * DATA_DIR holds password hashes, encrypted exchange keys and the secrets that decrypt them.
 */
export function secureDataDir(dataDir: string): void {
  if (isMainThread) process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const fix = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(p, 0o700);
      for (const name of readdirSync(p)) fix(path.join(p, name));
    } else if ((st.mode & 0o777) !== 0o600 && !st.isSocket()) {
      chmodSync(p, 0o600);
    }
  };
  fix(dataDir);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

function readLock(file: string): LockFile | undefined {
  try { return JSON.parse(readFileSync(file, 'utf8')) as LockFile; } catch { return undefined; }
}

/** True when something accepts connections on the lock's socket (a live owner, not a recycled pid). */
function answers(address: string | undefined): Promise<boolean> {
  if (!address) return Promise.resolve(false);
  return new Promise((resolve) => {
    const [host, port] = address.startsWith('/') ? [undefined, undefined] : address.split(':');
    const s = host ? connect(Number(port), host) : connect(address);
    const done = (v: boolean) => { s.destroy(); resolve(v); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 2000).unref();
  });
}

/** The lock's owner when it is a live process (this one only if it still holds the lock itself). */
async function liveOwner(file: string): Promise<LockFile | undefined> {
  const lock = readLock(file);
  if (!lock) {
    // unreadable: a writer between create and write, or garbage. Young → in use; old → stale.
    try { return Date.now() - statSync(file).mtimeMs < 10_000 ? { pid: 0, state: 'starting', startedAt: '' } : undefined; } catch { return undefined; }
  }
  if (lock.pid === process.pid) return held.has(file) ? lock : undefined;
  if (!alive(lock.pid)) return undefined;
  if (lock.state === 'ready') return (await answers(lock.address)) ? lock : undefined;
  return Date.now() - Date.parse(lock.startedAt) < START_TIMEOUT_MS ? lock : undefined;
}

/** Writes the lock file in place of the old one, atomically (temp file + rename), mode 0600. */
function writeLock(file: string, lock: LockFile) {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try { writeSync(fd, JSON.stringify(lock)); } finally { closeSync(fd); }
  renameSync(tmp, file);
}

const inUse = (dataDir: string, owner: LockFile) => new DataDirInUseError(
  `DATA_DIR ${dataDir} is in use by another process (pid ${owner.pid || 'unknown'}): its embedded database has one owner. ` +
  'Stop that server first, or set DATABASE_URL to share a PostgreSQL server (create-admin works through a running server).');

/**
 * Takes the DATA_DIR lock or throws DataDirInUseError. Exclusive create decides between racing starters;
 * a stale lock (dead pid, or a socket nobody answers) is taken over under a second exclusive file, so two
 * processes finding the same stale lock cannot both take it.
 */
async function acquireLock(dataDir: string): Promise<string> {
  const file = lockPathOf(dataDir);
  const mine: LockFile = { pid: process.pid, state: 'starting', startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try { writeSync(fd, JSON.stringify(mine)); } finally { closeSync(fd); }
      held.add(file);
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await liveOwner(file);
    if (owner) throw inUse(dataDir, owner);
    const takeover = `${file}.takeover`;
    try {
      closeSync(openSync(takeover, 'wx', 0o600));
    } catch {
      try { if (Date.now() - statSync(takeover).mtimeMs > 30_000) unlinkSync(takeover); } catch { /* gone */ }
      throw inUse(dataDir, readLock(file) ?? { pid: 0, state: 'starting', startedAt: '' });
    }
    try {
      if (!(await liveOwner(file))) { try { unlinkSync(file); } catch { /* already gone */ } }
    } finally { unlinkSync(takeover); }
  }
  throw inUse(dataDir, readLock(file) ?? { pid: 0, state: 'starting', startedAt: '' });
}

function releaseLock(file: string) {
  if (!held.delete(file)) return;
  if (readLock(file)?.pid === process.pid) { try { unlinkSync(file); } catch { /* gone */ } }
}

process.once('exit', () => { for (const f of [...held]) releaseLock(f); });

/**
 * The running server that owns `dataDir`'s embedded database, if any: its connection URL (with the
 * password of this start) and pid. Used by create-admin to write through the server instead of opening
 * the same files a second time.
 */
export async function runningEmbedded(dataDir: string): Promise<{ url: string; pid: number } | undefined> {
  const owner = await liveOwner(lockPathOf(dataDir));
  return owner?.state === 'ready' && owner.url ? { url: owner.url, pid: owner.pid } : undefined;
}

/** The worker's module: the .ts source under tsx (registered in the worker first), the .js file once built. */
function spawnWorker(data: EmbeddedWorkerData): Worker {
  const file = new URL(import.meta.url.endsWith('.ts') ? './embedded-worker.ts' : './embedded-worker.js', import.meta.url);
  if (!file.pathname.endsWith('.ts')) return new Worker(file, { workerData: data });
  // tsx's ESM register() (its package "exports" import entry; the CommonJS one cannot register in a worker).
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const entry = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api'].import.default;
  const tsx = pathToFileURL(path.join(path.dirname(pkgFile), entry)).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}

/** Starts PGlite in a worker thread behind a password-checking unix socket in DATA_DIR/pglite-server. */
export async function startEmbedded(dataDir: string, log: Logger): Promise<EmbeddedServer> {
  secureDataDir(dataDir);
  const runDir = runDirOf(dataDir);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  chmodSync(runDir, 0o700);
  const lockFile = await acquireLock(dataDir);
  const pgDir = path.join(dataDir, 'pglite');
  mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  // The socket lives in DATA_DIR/pglite-server (0700); a DATA_DIR path too long for a unix socket gets a
  // private (0700) directory under the system temp dir instead. Never a TCP port: other local users must
  // not reach it at all.
  const socketDir = path.join(runDir, SOCKET_NAME).length <= MAX_SOCKET_PATH ? runDir : mkdtempSync(path.join(os.tmpdir(), 'sm-pglite-'));
  const socketPath = path.join(socketDir, SOCKET_NAME);
  try { unlinkSync(socketPath); } catch { /* none left over */ }
  const password = randomBytes(24).toString('base64url');
  const worker = spawnWorker({ pgDir, socketPath, password, idleInTxMs: IDLE_IN_TX_MS });
  let stopping = false;
  let stopped: () => void = () => {};
  const whenStopped = new Promise<void>((resolve) => { stopped = resolve; });
  let address: string;
  try {
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('embedded database did not start within 120 s')), START_TIMEOUT_MS);
      worker.on('message', (m: { type: string; address?: string; message?: string; level?: 'info' | 'warn' | 'error'; msg?: string; data?: Record<string, unknown> }) => {
        if (m.type === 'ready') { clearTimeout(timer); resolve(m.address!); }
        else if (m.type === 'fatal') { clearTimeout(timer); reject(new Error(`embedded database failed to start: ${m.message}`)); }
        else if (m.type === 'log') log[m.level ?? 'info'](m.data ?? {}, m.msg ?? 'embedded database');
        else if (m.type === 'stopped') stopped();
      });
      worker.once('error', (err) => { clearTimeout(timer); reject(err); });
      worker.once('exit', (code) => {
        stopped();
        if (stopping) return;
        // Every query would fail from now on: fail the process (main.ts stops it within its bound, exit 1) so
        // the supervisor restarts it, rather than keep answering requests with errors.
        log.fatal({ code }, 'embedded database worker exited: stopping the process');
        setImmediate(() => { throw new Error(`embedded database worker exited with code ${code}`); });
      });
    });
  } catch (err) {
    stopping = true;
    await worker.terminate();
    if (socketDir !== runDir) rmSync(socketDir, { recursive: true, force: true });
    releaseLock(lockFile);
    throw err;
  }
  // PGlite lays out a new data directory with modes of its own (0666): make those private too. Files it
  // creates later follow the umask.
  secureDataDir(dataDir);
  const url = `postgresql://postgres:${password}@localhost/postgres?host=${encodeURIComponent(socketDir)}`;
  writeLock(lockFile, { pid: process.pid, state: 'ready', startedAt: new Date().toISOString(), url, address });
  log.warn({ dir: pgDir, socket: address }, 'no DATABASE_URL: using embedded PGlite in a worker thread (set DATABASE_URL for production)');
  return {
    url,
    async stop() {
      if (stopping) return;
      stopping = true;
      worker.postMessage({ type: 'stop' });
      const bound = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
      await Promise.race([whenStopped, bound]);
      await worker.terminate();
      if (socketDir !== runDir) rmSync(socketDir, { recursive: true, force: true });
      releaseLock(lockFile);
    },
  };
}
