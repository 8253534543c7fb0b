/**
 * Database: PostgreSQL through Prisma + @prisma/adapter-pg. With no DATABASE_URL, an embedded PGlite
 * (PostgreSQL in WebAssembly, data under DATA_DIR/pglite) is served on a loopback port by pglite-socket,
 * so both cases share one code path. Migrations (prisma/migrations) are applied by `prisma migrate deploy`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import type { Logger } from '../lib/logger.js';

export { PrismaClient };
export type { Prisma } from '@prisma/client';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Database {
  prisma: PrismaClient;
  /** Raw node-postgres pool (the adapter's), for bulk statements Prisma has no shape for. */
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

interface EmbeddedServer { url: string; stop(): Promise<void> }

async function startEmbedded(dataDir: string, log: Logger): Promise<EmbeddedServer> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = path.join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  // maxConnections > 1 so the migration CLI and the app pool can both connect; the app pool uses max 1
  // because PGlite is one session and a transaction blocks every other connection (TOOLCHAIN.md).
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const conn = server.getServerConn(); // "host:port"
  log.warn({ dir, conn }, 'no DATABASE_URL: using embedded PGlite (set DATABASE_URL for production)');
  return {
    url: `postgresql://postgres@${conn}/postgres`,
    async stop() { await server.stop(); await db.close(); },
  };
}

const MIGRATE_DONE = /All migrations have been successfully applied|No pending migrations to apply/;

/**
 * Applies pending migrations with the Prisma CLI (offline Wasm engine); throws with its output on failure.
 * The CLI keeps a database connection open for ~10 s after it has finished, so once it has printed its
 * final line it is ended rather than waited for.
 */
export async function migrate(url: string, log: Logger): Promise<void> {
  const started = Date.now();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/prisma'), ['migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
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

/** Opens the database (embedded when `databaseUrl` is unset), applies migrations, returns the client. */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolMax: number; migrate: boolean; log: Logger }): Promise<Database> {
  const embedded = opts.databaseUrl ? undefined : await startEmbedded(opts.dataDir, opts.log);
  const url = opts.databaseUrl ?? embedded!.url;
  try {
    if (opts.migrate) await migrate(url, opts.log);
    const pool = new pg.Pool({ connectionString: url, max: embedded ? 1 : opts.poolMax });
    pool.on('error', (err) => opts.log.error({ err }, 'database pool error'));
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    let stopped = false;
    return {
      prisma, pool, url, embedded: !!embedded,
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
