/** Bench helpers: a fresh PostgreSQL database per bench run (real PostgreSQL, migrated). */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { migrate } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';

export const BENCH_PG = process.env.BENCH_DATABASE_URL_BASE ?? 'postgresql://postgres@127.0.0.1:5432';

/** Drops and recreates `name`, applies migrations, returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${BENCH_PG}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally { await admin.end(); }
  const url = `${BENCH_PG}/${name}`;
  await migrate(url, createLogger('warn'));
  return url;
}

/**
 * Inserts `n` open trades (one signal + one ACTIVE trade each, on distinct pairs) for a new strategy,
 * advancing the seq counter as the coordinator would. Returns the strategy id.
 */
export async function preloadActiveTrades(url: string, n: number): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    const { rows: [s] } = await c.query(`INSERT INTO "Strategy" (id, name) VALUES (gen_random_uuid(), 'preloaded') RETURNING id`);
    const { rows: [{ value }] } = await c.query(`UPDATE "SeqCounter" SET value = value + $1 WHERE id = 1 RETURNING value`, [n]);
    const first = Number(value) - n + 1;
    await c.query(`
      WITH g AS (SELECT i, gen_random_uuid() AS sid FROM generate_series(0, $2::int - 1) i),
      sig AS (
        INSERT INTO "Signal" (id, seq, "strategyId", pair, action, direction, price, source, hash)
        SELECT sid, $3::bigint + i, $1::uuid, 'P' || i || '/USDT', 'OPEN', 'LONG', 100 + i, 'api', md5(sid::text) FROM g RETURNING id, seq, pair, price
      )
      INSERT INTO "Trade" (id, "strategyId", pair, direction, "entryPrice", "stopLoss", "takeProfit", "openSignalId", "openSeq", "openedAt")
      SELECT gen_random_uuid(), $1::uuid, pair, 'LONG', price, price * 0.9, price * 1.1, id, seq, now() FROM sig`, [s.id, n, first]);
    await c.query('COMMIT');
    return s.id as string;
  } finally { await c.end(); }
}

// Runs in a worker thread (its own event loop, its own connection), so what it measures is PostgreSQL,
// the disk and the scheduler under the bench's load, not how busy the bench's own event loop is.
const COMMIT_PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
(async () => {
  const c = new pg.Client({ connectionString: workerData.url });
  await c.connect();
  await c.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id int PRIMARY KEY, n bigint NOT NULL)');
  await c.query('INSERT INTO bench_commit_probe VALUES (1, 0) ON CONFLICT DO NOTHING');
  const samples = [];
  let stop = false;
  parentPort.on('message', () => { stop = true; });
  parentPort.postMessage({ ready: true });
  while (!stop) {
    const t = performance.now();
    await c.query({ name: 'probe', text: 'UPDATE bench_commit_probe SET n = n + 1 WHERE id = 1' });
    samples.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, workerData.everyMs));
  }
  await c.end();
  parentPort.postMessage({ samples });
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

/**
 * The machine's floor for one durable commit while a bench runs: a worker thread commits a one-row
 * UPDATE (autocommit, synchronous_commit as configured) every `everyMs` on its own connection to `url`.
 * `stop()` returns the round-trip times (ms).
 */
export async function startCommitProbe(url: string, everyMs = 10): Promise<{ stop(): Promise<number[]> }> {
  const worker = new Worker(COMMIT_PROBE, { eval: true, workerData: { url, everyMs, pgPath: createRequire(import.meta.url).resolve('pg') } });
  const next = () => new Promise<{ ready?: boolean; samples?: number[]; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const first = await next();
  if (first.error) throw new Error(`commit probe: ${first.error}`);
  return {
    async stop() {
      const done = next();
      worker.postMessage('stop');
      const r = await done;
      await worker.terminate();
      if (r.error || !r.samples) throw new Error(`commit probe: ${r.error ?? 'no samples'}`);
      return r.samples;
    },
  };
}
