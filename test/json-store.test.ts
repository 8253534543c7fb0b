import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileDurable } from '../src/lib/atomic-file.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'sm-atomic-'));

function startWriter(file: string, tag: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/atomic-writer.ts', file, tag], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
}

describe('atomic JSON files', () => {
  it('two processes rewriting the same file concurrently never see ENOENT or a torn file', async function () {
    this.timeout(20_000);
    const file = path.join(tmp(), 'metadata.json');
    const a = await startWriter(file, 'a');
    const b = await startWriter(file, 'b');
    const seen = new Set<string>();
    let reads = 0;
    try {
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        const doc = JSON.parse(await readFile(file, 'utf8')); // throws on a torn file
        assert.equal(doc.items.length, 1000);
        assert.ok(doc.items.every((it: { tag: string; n: number }) => it.tag === doc.tag && it.n === doc.n), 'one version per file');
        seen.add(doc.tag);
        reads++;
      }
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
    }
    assert.ok(reads > 50, `read ${reads} times`);
    assert.deepEqual([...seen].sort(), ['a', 'b'], 'both writers got their versions in');
  });

  it('a writer killed -9 mid-write leaves the old or the new file, never a torn one (20 kills)', async function () {
    this.timeout(60_000);
    const dir = tmp();
    const file = path.join(dir, 'active.json');
    let lastN = 0;
    for (let i = 0; i < 20; i++) {
      const w = await startWriter(file, `k${i}`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
      w.kill('SIGKILL');
      await new Promise((r) => w.once('exit', r));
      const doc = JSON.parse(await readFile(file, 'utf8'));
      assert.equal(doc.items.length, 1000);
      assert.ok(doc.n >= 1);
      lastN = doc.n;
    }
    assert.ok(lastN >= 1);
    // Temp files may be left behind by the kills; the real file is intact regardless.
    const names = await readdir(dir);
    assert.ok(names.includes('active.json'));
  });

  it('writeFileDurable replaces content atomically and leaves no temp file behind', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x.json');
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFileDurable(file, JSON.stringify({ i }))));
    assert.deepEqual(await readdir(dir), ['x.json']);
    assert.ok(JSON.parse(await readFile(file, 'utf8')).i >= 0);
  });
});

describe('JSON store recovery on start', () => {
  async function appWithSignals(dataDir?: string) {
    const app = await startTestApp(dataDir ? { DATA_DIR: dataDir } : {});
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const api = client(app);
    const o = await api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 10 }, author.token);
    const c = await api.post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 11 }, author.token);
    const o2 = await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'SHORT', price: 10 }, author.token);
    return { app, author, strategyId, ids: [o.body.id, c.body.id, o2.body.id] as string[], seqs: [o.body.seq, c.body.seq, o2.body.seq] as number[] };
  }
  const read = async (dir: string, f: string) => JSON.parse(await readFile(path.join(dir, 'signals', f), 'utf8'));

  it('ignores and removes a leftover temp file, keeping the real files', async () => {
    const { app, seqs } = await appWithSignals();
    const dir = app.config.dataDir;
    await app.stop();
    const tempName = path.join(dir, 'signals', 'metadata.json.1234567890');
    await writeFile(tempName, '{"lastSeq": 99999999, "torn');
    const again = await startTestApp({ DATA_DIR: dir });
    try {
      const names = await readdir(path.join(dir, 'signals'));
      assert.ok(!names.includes('metadata.json.1234567890'));
      assert.ok((await read(dir, 'metadata.json')).lastSeq >= seqs[2]!);
    } finally { await again.stop(); }
  });

  it('reports a corrupt active.json and rebuilds every file from the database', async () => {
    const { app, ids } = await appWithSignals();
    const dir = app.config.dataDir;
    await app.stop();
    await writeFile(path.join(dir, 'signals', 'active.json'), '[{"id": "half-writ');
    await writeFile(path.join(dir, 'signals', 'completed_trades.json'), 'not json');
    const again = await startTestApp({ DATA_DIR: dir });
    try {
      const active = await read(dir, 'active.json');
      assert.ok(active.some((t: { openSignalId: string }) => t.openSignalId === ids[2]), 'open trade rebuilt');
      const completed = await read(dir, 'completed_trades.json');
      assert.ok(completed.some((t: { closeSignalId: string }) => t.closeSignalId === ids[1]), 'completed trade rebuilt');
      const db = await again.db.prisma.trade.count({ where: { status: 'ACTIVE' } });
      assert.equal(active.length, db, 'active.json matches the database');
    } finally { await again.stop(); }
  });

  it('catches up signals accepted while this store was not running (written by another process)', async () => {
    const first = await appWithSignals();
    const dir = first.app.config.dataDir;
    await first.app.stop();
    // Another process (no store role) accepts a signal meanwhile.
    const other = await startTestApp({ ROLES: 'api' });
    const pair = uniquePair();
    const r = await client(other).post('/api/signals', { strategyId: first.strategyId, pair, action: 'OPEN', direction: 'LONG', price: 3 }, first.author.token);
    assert.equal(r.status, 201);
    await other.stop();
    const again = await startTestApp({ DATA_DIR: dir });
    try {
      const meta = await read(dir, 'metadata.json');
      assert.ok(meta.lastSeq >= r.body.seq);
      const active = await read(dir, 'active.json');
      assert.ok(active.some((t: { openSignalId: string }) => t.openSignalId === r.body.id));
    } finally { await again.stop(); }
  });
});

describe('JSON store timing', () => {
  it('answers an accepted signal before its JSON flush, and the flush that follows makes it durable (onDurable reports its seq)', async () => {
    const app = await startTestApp();
    try {
      const { author, strategyId } = await seedStrategy(app);
      const durable: number[] = [];
      const off = app.store!.onDurable((seq) => durable.push(seq));
      const r = await client(app).post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 7 }, author.token);
      assert.equal(r.status, 201);
      await app.store!.flush();
      off();
      assert.ok(durable.some((s) => s >= r.body.seq), `durable seqs ${durable.join(',')} cover ${r.body.seq}`);
      const active = JSON.parse(await readFile(path.join(app.config.dataDir, 'signals', 'active.json'), 'utf8')) as { openSignalId: string }[];
      assert.ok(active.some((t) => t.openSignalId === r.body.id));
      const meta = JSON.parse(await readFile(path.join(app.config.dataDir, 'signals', 'metadata.json'), 'utf8'));
      assert.ok(meta.lastSeq >= r.body.seq);
    } finally { await app.stop(); }
  });

  it('a data file that cannot be put in place leaves metadata.json where it was (never ahead of the data) and no temp file; the next flush catches up', async () => {
    const app = await startTestApp();
    try {
      const { author, strategyId } = await seedStrategy(app);
      const api = client(app);
      const signals = path.join(app.config.dataDir, 'signals');
      const first = await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 7 }, author.token);
      await app.store!.flush();
      // A directory where active.json should be: its rename fails after every temp file was written and fsynced.
      await rm(path.join(signals, 'active.json'));
      await mkdir(path.join(signals, 'active.json', 'blocker'), { recursive: true });
      const second = await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 8 }, author.token);
      assert.equal(second.status, 201, 'the signal is accepted (the database holds it) whatever the JSON store does');
      await assert.rejects(app.store!.flush());
      const meta = JSON.parse(await readFile(path.join(signals, 'metadata.json'), 'utf8'));
      assert.equal(meta.lastSeq, first.body.seq, 'metadata.json not moved past the data files');
      assert.deepEqual((await readdir(signals)).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
      await rm(path.join(signals, 'active.json'), { recursive: true });
      await app.store!.flush();
      const after = JSON.parse(await readFile(path.join(signals, 'metadata.json'), 'utf8'));
      assert.ok(after.lastSeq >= second.body.seq);
      const active = JSON.parse(await readFile(path.join(signals, 'active.json'), 'utf8')) as { openSignalId: string }[];
      assert.ok(active.some((t) => t.openSignalId === second.body.id) && active.some((t) => t.openSignalId === first.body.id));
    } finally { await app.stop(); }
  });
});
