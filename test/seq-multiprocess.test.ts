import assert from 'node:assert/strict';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { spawnServer, type ServerProcess } from './support/processes.js';
import type { App } from '../src/app.js';

describe('seq across processes', function () {
  this.timeout(90_000);
  let procs: ServerProcess[] = [];
  let app: App;
  before(async () => {
    app = await startTestApp();
    procs = await Promise.all([spawnServer({ ROLES: 'api' }), spawnServer({ ROLES: 'api' })]);
  });
  after(async () => { await Promise.all(procs.map((p) => p.kill())); await app?.stop(); });

  it('two processes ingesting concurrently get unique, gapless seqs that follow each strategy\'s commit order', async () => {
    const strategies = await Promise.all([seedStrategy(app), seedStrategy(app)]);
    const jobs: Promise<{ status: number; body: { seq: number; id: string } }>[] = [];
    for (let i = 0; i < 60; i++) {
      const s = strategies[i % 2]!;
      const p = procs[i % 2]!;
      jobs.push(client(p.url).post(`/api/webhooks/tradingview/${s.strategyId}`, { pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 1 + i, secret: s.secret }));
    }
    const results = await Promise.all(jobs);
    assert.ok(results.every((r) => r.status === 202), JSON.stringify(results.find((r) => r.status !== 202)?.body));
    const seqs = results.map((r) => r.body.seq).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, 60, 'no seq given twice');
    const min = seqs[0]!;
    const max = seqs.at(-1)!;
    // Gapless: every seq in the range exists (other tests may own some of them).
    const inRange = await app.db.prisma.signal.count({ where: { seq: { gte: BigInt(min), lte: BigInt(max) } } });
    assert.equal(inRange, max - min + 1);
    // Each strategy's hash chain, read in seq order, links every signal to the one before it:
    // seq order is the order in which the signals were committed.
    for (const s of strategies) {
      const rows = await app.db.prisma.signal.findMany({ where: { strategyId: s.strategyId }, orderBy: { seq: 'asc' } });
      assert.equal(rows.length, 30);
      for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prevHash, rows[i - 1]!.hash, `chain broken at seq ${rows[i]!.seq}`);
    }
  });
});
