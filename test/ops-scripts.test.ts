import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../src/db/index.js';
import { createLogger } from '../src/lib/logger.js';
import { SignalReader, checkConsistency } from '../src/signals/index.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';

/** A database of its own: restore drops and recreates objects, which must not touch the shared test database. */
async function scratchDatabase(): Promise<string> {
  const name = `sm_ops_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: Object.assign(new URL(TEST_DATABASE_URL), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try { await admin.query(`CREATE DATABASE "${name}"`); } finally { await admin.end(); }
  const url = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${name}` }).toString();
  await migrate(url, createLogger('warn'));
  return url;
}

describe('operations scripts', function () {
  this.timeout(120_000);

  it('check-consistency agrees with a fresh store, then reports a trade removed from active.json and a wrong lastSeq', async () => {
    const url = await scratchDatabase(); // nothing else writes here while we compare
    const app = await startTestApp({ DATABASE_URL: url });
    try {
      const { author, strategyId } = await seedStrategy(app);
      const api = client(app);
      const o = await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 5 }, author.token);
      const reader = new SignalReader(app.db.prisma);
      await app.store!.flush();
      const before = await checkConsistency(app.config.dataDir, reader);
      assert.deepEqual(before.differences, []);
      assert.equal(before.ok, true);
      await app.stop();
      const active = path.join(app.config.dataDir, 'signals', 'active.json');
      const trades = JSON.parse(await readFile(active, 'utf8')) as { openSignalId: string }[];
      await writeFile(active, JSON.stringify(trades.filter((t) => t.openSignalId !== o.body.id)));
      const meta = path.join(app.config.dataDir, 'signals', 'metadata.json');
      await writeFile(meta, JSON.stringify({ ...JSON.parse(await readFile(meta, 'utf8')), lastSeq: 999999 }));
      const again = await startTestApp({ DATABASE_URL: url, ROLES: 'api' }); // no store role: the files stay as tampered
      try {
        const after = await checkConsistency(app.config.dataDir, new SignalReader(again.db.prisma));
        assert.equal(after.ok, false);
        assert.ok(after.differences.some((d) => /^active\.json: trade .* is in the database but not in the file$/.test(d)), JSON.stringify(after.differences));
        assert.ok(after.differences.some((d) => /^metadata\.json: lastSeq 999999, database 1$/.test(d)));
      } finally { await again.stop(); }
    } finally { await app.stop(); }
  });

  it('backup then restore brings back the database and the JSON store as they were at backup time', async () => {
    const url = await scratchDatabase();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sm-ops-'));
    const env = { ...process.env, DATABASE_URL: url, DATA_DIR: dataDir, BACKUP_DIR: path.join(dataDir, 'backups') };
    let app = await startTestApp({ DATABASE_URL: url, DATA_DIR: dataDir });
    const { author, strategyId } = await seedStrategy(app);
    const kept = await client(app).post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 5 }, author.token);
    await app.stop();
    const backup = execFileSync('scripts/backup.sh', { env, encoding: 'utf8' }).trim().split('\n').pop()!;

    app = await startTestApp({ DATABASE_URL: url, DATA_DIR: dataDir });
    const lost = await client(app).post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 6 }, author.token);
    assert.equal(lost.status, 201);
    await app.stop();

    execFileSync('scripts/restore.sh', [backup], { env, encoding: 'utf8' });
    app = await startTestApp({ DATABASE_URL: url, DATA_DIR: dataDir });
    try {
      const ids = (await app.db.prisma.signal.findMany({ where: { strategyId } })).map((s) => s.id);
      assert.deepEqual(ids, [kept.body.id]);
      const report = await checkConsistency(dataDir, new SignalReader(app.db.prisma));
      assert.deepEqual(report.differences, []);
      const active = JSON.parse(await readFile(path.join(dataDir, 'signals', 'active.json'), 'utf8')) as { openSignalId: string }[];
      assert.deepEqual(active.map((t) => t.openSignalId), [kept.body.id]);
    } finally { await app.stop(); }
  });
});
