/**
 * The documentation's examples run as pasted: the shell block of README's "A first signal, end to end"
 * and the Node client of docs/protocol.md are read from the files and run with bash / node against a
 * started server on a fresh database (a new PostgreSQL database, as on a first `npm start`). The only
 * change made to a block is the port: `localhost:3000` becomes the test server's port.
 * README_FILE may name another README (to check a proposed block before it is pasted in).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { App } from '../src/app.js';
import { CLOSE } from '../src/distribution/protocol.js';
import { client, startTestApp } from './support/app.js';
import { TEST_DATABASE_URL } from './support/env.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The fenced blocks of `lang` in `markdown` after the line containing `marker` (up to the next heading). */
function blocksAfter(markdown: string, marker: string, lang: string): string[] {
  const at = markdown.indexOf(marker);
  assert.ok(at >= 0, `the document has "${marker}"`);
  const rest = markdown.slice(at);
  const section = rest.slice(0, rest.slice(1).search(/\n#{1,6} /) + 1 || undefined);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The JSON values printed one after another (curl's answer has no newline before the next file). */
function jsonValues(text: string): any[] {
  const out: any[] = [];
  let depth = 0; let start = -1; let inString = false; let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) { if (escaped) escaped = false; else if (c === '\\') escaped = true; else if (c === '"') inString = false; continue; }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') { if (depth++ === 0) start = i; }
    else if ((c === '}' || c === ']') && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

/** Runs `script` with bash in `cwd` (asynchronously: the server answering it runs in this process). */
function bash(script: string, cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/** Collects a child's output and resolves when `predicate` matches it. */
function waitOutput(child: ChildProcess, which: 'stdout' | 'stderr', predicate: (text: string) => boolean, ms = 20_000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting on ${which}; got:\n${text}`)), ms);
    child[which]!.on('data', (d: Buffer) => {
      text += d.toString();
      if (predicate(text)) { clearTimeout(timer); resolve(text); }
    });
  });
}

describe('documentation examples run as pasted', function () {
  this.timeout(120_000);
  const dbName = `readme_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let dir: string;
  let app: App;
  let port: string;

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'sm-readme-'));
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${dbName}`;
    app = await startTestApp({ DATABASE_URL: url.toString(), DATA_DIR: path.join(dir, 'data') });
    port = new URL(app.url).port;
  });
  after(async () => {
    await app?.stop();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const onPort = (script: string) => script.replaceAll('localhost:3000', `localhost:${port}`);

  it('README "A first signal, end to end": register, create a strategy, post a TradingView signal, read it in data/signals', async () => {
    const readme = readFileSync(process.env.README_FILE ?? path.join(ROOT, 'README.md'), 'utf8');
    const [block] = blocksAfter(readme, 'A first signal, end to end', 'sh');
    assert.ok(block, 'the section has a sh block');
    const r = await bash(onPort(block), dir);
    assert.equal(r.status, 0, r.stderr);
    // The output: the webhook's answer (the accepted signal), then active.json and metadata.json.
    const values = jsonValues(r.stdout);
    const signal = values.find((v) => typeof v.seq === 'number' && v.hash) ?? {};
    assert.equal(signal.pair, 'BTC/USDT', `the webhook accepted the signal; output:\n${r.stdout}\n${r.stderr}`);
    assert.equal(signal.action, 'OPEN');
    assert.equal(signal.source, 'webhook');
    assert.match(r.stdout, /"pair":\s*"BTC\/USDT"/);
    const stored = await client(app).get(`/api/strategies/${signal.strategyId}/signals`);
    assert.equal(stored.body.signals.length, 1);
    assert.equal(stored.body.signals[0].seq, signal.seq);
    assert.ok(values.some((v) => v.lastSeq === signal.seq), `metadata.json shows the signal stored; output:\n${r.stdout}`);
    assert.ok(values.some((v) => Array.isArray(v) && v.some((t) => t.openSignalId === signal.id)), `active.json holds the open trade of the signal; output:\n${r.stdout}`);
  });

  it('docs/protocol.md Node client: logs in as pasted, prints live signals in seq order and replays missed ones after a restart', async function () {
    const doc = readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8');
    const [run] = blocksAfter(doc, '## A client in Node', 'sh');
    const [code] = blocksAfter(doc, '## A client in Node', 'js');
    assert.ok(run && code, 'the section has a sh and a js block');
    // "Save as signals-client.mjs inside the project directory": a scratch folder inside it.
    const scratch = path.join(ROOT, 'test-output', `readme-client-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    writeFileSync(path.join(scratch, 'signals-client.mjs'), code);
    const api = client(app);
    try {
      // The account the sh block logs in with, subscribed to a fresh strategy.
      assert.equal((await api.post('/api/auth/register', { email: 'you@example.com', password: 'your-password' })).status, 201);
      const login = await api.post('/api/auth/login', { email: 'you@example.com', password: 'your-password' });
      const author = await api.post('/api/auth/register', { email: 'client-author@example.com', password: 'a-long-password', role: 'AUTHOR' });
      const strategy = await api.post('/api/strategies', { name: 'client example', pairs: ['ETH/USDT'] }, author.body.token);
      assert.equal((await api.post('/api/subscriptions', { strategyId: strategy.body.id, exchange: 'binance', sizing: { mode: 'quote', amount: 10 } }, login.body.token)).status, 201);
      const post = (price: number, action = 'OPEN') => api.post(`/api/webhooks/tradingview/${strategy.body.id}`, { pair: 'ETH/USDT', action, direction: 'LONG', price, secret: strategy.body.webhookSecret });

      const first = spawn('bash', ['-c', onPort(run)], { cwd: scratch, detached: true });
      try {
        await waitOutput(first, 'stderr', (t) => t.includes('connected;'));
        const s1 = await post(3000);
        assert.equal(s1.status, 202);
        const out = await waitOutput(first, 'stdout', (t) => t.includes(`"seq":${s1.body.seq}`));
        const line = JSON.parse(out.trim().split('\n')[0]!);
        assert.deepEqual(line, { seq: s1.body.seq, strategyId: strategy.body.id, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000, marketPrice: null });
      } finally { process.kill(-first.pid!, 'SIGTERM'); }

      // While no client runs, a second signal; a fresh start (LAST_SEQ unset → 0) replays both, in order.
      const s2 = await post(3001, 'CLOSE');
      assert.equal(s2.status, 202);
      const second = spawn('bash', ['-c', onPort(run)], { cwd: scratch, detached: true });
      try {
        const out = await waitOutput(second, 'stdout', (t) => t.includes(`"seq":${s2.body.seq}`));
        const seqs = out.trim().split('\n').map((l) => JSON.parse(l).seq);
        assert.deepEqual(seqs, [seqs[0], s2.body.seq], `both signals replayed once, in seq order: ${seqs}`);
        assert.ok(seqs[0] < s2.body.seq);
      } finally { process.kill(-second.pid!, 'SIGTERM'); }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
  it('docs/protocol.md Node client: after more than 1,000 missed signals it takes the GAP over REST and prints every signal once, in seq order', async function () {
    this.timeout(180_000);
    const doc = readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8');
    const [code] = blocksAfter(doc, '## A client in Node', 'js');
    const scratch = path.join(ROOT, 'test-output', `readme-gap-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    writeFileSync(path.join(scratch, 'signals-client.mjs'), code!);
    const api = client(app);
    try {
      const user = await api.post('/api/auth/register', { email: 'gap-reader@example.com', password: 'a-long-password' });
      const author = await api.post('/api/auth/register', { email: 'gap-author@example.com', password: 'a-long-password', role: 'AUTHOR' });
      // Ten subscribed pairs, so that ten OPEN/CLOSE sequences can be posted at once (one pair's must be in order).
      const lanes = ['SOL', 'ADA', 'DOT', 'AVAX', 'LINK', 'ATOM', 'NEAR', 'APT', 'ARB', 'OP'].map((b) => `${b}/USDT`);
      const strategy = await api.post('/api/strategies', { name: 'gap example', pairs: [...lanes, 'XRP/USDT'] }, author.body.token);
      // Not XRP/USDT: the REST fill must apply the subscription's pairs as the server does.
      assert.equal((await api.post('/api/subscriptions', { strategyId: strategy.body.id, exchange: 'binance', allPairs: false, pairs: lanes, sizing: { mode: 'quote', amount: 10 } }, user.body.token)).status, 201);
      const seen: number[] = [];
      await Promise.all(lanes.map(async (pair, lane) => {
        for (let i = 0; i < 105; i++) {
          const action = i % 2 ? 'CLOSE' : 'OPEN';
          const r = await api.post('/api/signals', { strategyId: strategy.body.id, pair, action, direction: 'LONG', price: 150 + i / 100 }, author.body.token);
          assert.equal(r.status, 201, JSON.stringify(r.body));
          seen.push(r.body.seq);
          if (lane === 0 && i % 10 === 0) assert.equal((await api.post('/api/signals', { strategyId: strategy.body.id, pair: 'XRP/USDT', action: (i / 10) % 2 ? 'CLOSE' : 'OPEN', direction: 'LONG', price: 2 + i / 1e4 }, author.body.token)).status, 201);
        }
      }));
      seen.sort((a, b) => a - b);
      const child = spawn('node', ['signals-client.mjs'], { cwd: scratch, env: { ...process.env, BASE: app.url, TOKEN: user.body.token } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      try {
        const out = await waitOutput(child, 'stdout', (t) => t.includes(`"seq":${seen.at(-1)},`), 60_000);
        const printed = out.trim().split('\n').map((l) => JSON.parse(l));
        assert.match(stderr, /gap 1\.\.\d+: fetching over REST/, 'the server sent a GAP and the client filled it');
        assert.deepEqual(printed.map((x) => x.seq), seen, 'every signal of the subscribed pairs once, ascending, none of XRP/USDT');
      } finally { child.kill('SIGTERM'); }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('docs/protocol.md names every close code and ERROR code the server uses', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8');
    const source = readFileSync(path.join(ROOT, 'src/distribution/protocol.ts'), 'utf8');
    const closeCodes = Object.values(CLOSE) as number[];
    for (const c of [...closeCodes, 1011]) assert.match(doc, new RegExp(`\\| ${c} \\|`), `close code ${c} is in the close-code table`);
    const errorCodes = [...(source.match(/ProtocolErrorCode =([^;]+);/)?.[1] ?? '').matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
    assert.ok(errorCodes.length >= 5, `read the ERROR codes from protocol.ts: ${errorCodes}`);
    for (const c of errorCodes) assert.ok(doc.includes(`\`${c}\``), `ERROR code ${c} is documented`);
  });
});
