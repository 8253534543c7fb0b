/**
 * Database: PostgreSQL through Prisma + @prisma/adapter-pg. With no DATABASE_URL, an embedded PGlite
 * (PostgreSQL in WebAssembly, data under DATA_DIR/pglite) runs in a worker thread behind a private,
 * password-checking unix socket (embedded.ts), so both cases share one code path. Migrations
 * (prisma/migrations) are applied by `prisma migrate deploy`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { childProcessEnv } from '../config/index.js';
import type { Logger } from '../lib/logger.js';
import { runningEmbedded, secureDataDir, startEmbedded } from './embedded.js';

export { PrismaClient };
export { DataDirInUseError } from './embedded.js';
export type { Prisma } from '@prisma/client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Database {
  prisma: PrismaClient;
  /** Raw node-postgres pool (the adapter's), for bulk statements Prisma has no shape for. */
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  /** Set when this process writes through another process's embedded server (create-admin): its pid. */
  viaServerPid?: number;
  stop(): Promise<void>;
}

const MIGRATE_DONE = /All migrations have been successfully applied|No pending migrations to apply/;

/**
 * Whether every migration under prisma/migrations is recorded as applied (finished, not rolled back) in
 * the database's _prisma_migrations table: then `prisma migrate deploy` would apply nothing. Any doubt
 * (no table yet, no connection) is false, and the CLI decides.
 */
async function allApplied(url: string): Promise<boolean> {
  const dir = path.join(ROOT, 'prisma/migrations');
  const local = readdirSync(dir).filter((name) => existsSync(path.join(dir, name, 'migration.sql')));
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    const { rows } = await c.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
    const applied = new Set(rows.map((r) => r.migration_name));
    return local.every((name) => applied.has(name));
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Applies pending migrations with the Prisma CLI (offline Wasm engine); throws with its output on failure.
 * When every migration is already applied the CLI is not started (it costs 1-2 s of CPU per process
 * start). The CLI keeps a database connection open for ~10 s after it has finished, so once it has
 * printed its final line it is ended rather than waited for.
 */
export async function migrate(url: string, log: Logger): Promise<void> {
  const started = Date.now();
  if (await allApplied(url)) {
    log.info({ ms: Date.now() - started }, 'migrations applied (none pending)');
    return;
  }
  const child = spawn(path.join(ROOT, 'node_modules/.bin/prisma'), ['migrate', 'deploy'], {
    cwd: ROOT,
    env: childProcessEnv({ DATABASE_URL: url, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let done = false;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('database migration timed out after 120 s')); }, 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!done && MIGRATE_DONE.test(out)) { done = true; setTimeout(() => child.kill('SIGTERM'), 200); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  if (!done && code !== 0) {
    throw new Error(`database migration failed: ${out.trim().split('\n').slice(-3).join(' ')}`);
  }
  if (!done) throw new Error(`database migration ended without confirming: ${out.trim().split('\n').slice(-2).join(' ')}`);
  log.info({ ms: Date.now() - started }, 'migrations applied');
}

/**
 * Opens the database (embedded when `databaseUrl` is unset), applies migrations, returns the client.
 * Embedded and `attach`: when a running server owns DATA_DIR, connects through it instead of refusing.
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolMax: number; migrate: boolean; log: Logger; attach?: boolean }): Promise<Database> {
  secureDataDir(opts.dataDir);
  const running = !opts.databaseUrl && opts.attach ? await runningEmbedded(opts.dataDir) : undefined;
  const embedded = opts.databaseUrl || running ? undefined : await startEmbedded(opts.dataDir, opts.log);
  const url = opts.databaseUrl ?? running?.url ?? embedded!.url;
  try {
    if (opts.migrate && !running) await migrate(url, opts.log); // a running server has migrated already
    // Embedded: one pool client, because PGlite is one session and a transaction holds it.
    const pool = new pg.Pool({ connectionString: url, max: embedded || running ? 1 : opts.poolMax });
    pool.on('error', (err) => opts.log.error({ err }, 'database pool error'));
    // While code holds a client between two queries the pool has no error listener on it: a connection the
    // server cuts in that gap (a restart, pg_terminate_backend) would be an uncaught error and stop the process.
    // The holder's next query fails and the pool replaces the client; here it only needs to be logged.
    pool.on('connect', (c) => { c.on('error', (err) => opts.log.warn({ err: err.message }, 'database connection lost')); });
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    let stopped = false;
    return {
      prisma, pool, url, embedded: !!embedded, viaServerPid: running?.pid,
      async stop() {
        if (stopped) return;
        stopped = true;
        await prisma.$disconnect().catch(() => {});
        await pool.end().catch(() => {});
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}
