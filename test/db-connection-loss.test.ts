/**
 * A database connection cut by the server while the app holds it between two queries (a PostgreSQL restart,
 * pg_terminate_backend) must not become an uncaught error: under PM2 that stopped sm-executor in the soak.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import type { App } from '../src/app.js';
import { startTestApp } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';

describe('database connection lost while checked out', function () {
  this.timeout(60_000);
  let app: App;
  before(async () => { app = await startTestApp({ ROLES: 'api,store' }); });
  after(async () => { await app?.stop(); });

  it('a connection the server terminates between two queries is logged, not an uncaught error, and the pool serves the next query', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => { uncaught.push(err); };
    // Mocha's own handler would fail the run; listen first so the assertion below can say what happened.
    process.prependListener('uncaughtException', onUncaught);
    try {
      const held = await app.db.pool.connect();
      const { rows: [{ pid }] } = await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // 'end', not 'error': a listener of ours on 'error' would itself prevent what this test looks for.
      const ended = new Promise<void>((resolve) => held.once('end', () => resolve()));
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      try { await admin.query('SELECT pg_terminate_backend($1)', [pid]); } finally { await admin.end(); }
      await ended; // the cut reached the held client (an unhandled 'error' would have been thrown by now)
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(uncaught, [], 'no uncaught error');
      held.release(true);
      const { rows: [{ one }] } = await app.db.pool.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(one, 1);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
  });
});
