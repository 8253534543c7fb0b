/**
 * Start-up migrations: a database that lacks them gets them from `prisma migrate deploy`; one that has
 * every migration of prisma/migrations recorded as applied does not start the CLI (1-2 s of CPU per
 * process start, paid by every server, worker and test app).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { migrate } from '../src/db/index.js';
import type { Logger } from '../src/lib/logger.js';
import { TEST_DATABASE_URL } from './support/env.js';

const adminUrl = () => Object.assign(new URL(TEST_DATABASE_URL), { pathname: '/postgres' }).toString();

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

/** A logger that keeps the messages of info lines. */
function recorder(): { log: Logger; messages: string[] } {
  const messages: string[] = [];
  const log = { info: (_obj: unknown, msg: string) => { messages.push(msg); } } as unknown as Logger;
  return { log, messages };
}

describe('start-up migrations', function () {
  this.timeout(60_000);
  const name = `sm_mig_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const url = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${name}` }).toString();

  before(() => admin(`CREATE DATABASE "${name}"`));
  after(() => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

  it('an empty database gets every migration through the CLI; the next start finds none pending and starts no CLI', async () => {
    const first = recorder();
    await migrate(url, first.log);
    assert.deepEqual(first.messages, ['migrations applied']);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1');
      const local = readdirSync('prisma/migrations', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
      assert.deepEqual(rows.map((r) => r.migration_name), local);
    } finally {
      await c.end();
    }
    const second = recorder();
    const t0 = Date.now();
    await migrate(url, second.log);
    assert.deepEqual(second.messages, ['migrations applied (none pending)']);
    assert.ok(Date.now() - t0 < 1000, `the check took ${Date.now() - t0} ms`);
  });
});
