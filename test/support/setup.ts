/**
 * Mocha global setup: make sure the test database exists and carries every migration, once per run.
 * Tests isolate by unique data (random ids, emails, key prefixes), never by wiping.
 */
import pg from 'pg';
import { migrate } from '../../src/db/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { TEST_DATABASE_URL } from './env.js';

export async function mochaGlobalSetup() {
  const u = new URL(TEST_DATABASE_URL);
  const name = u.pathname.slice(1);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(TEST_DATABASE_URL), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }
  await migrate(TEST_DATABASE_URL, createLogger('warn'));
}
