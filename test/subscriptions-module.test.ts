/**
 * The subscriptions module (src/subscriptions) as the one owner of the Subscription model:
 *  - other modules reach it only through its index (dependency-cruiser, on a fixture tree);
 *  - API keys are opened only by its repository (no other source decrypts them or writes keysInvalid);
 *  - its matching rule is the same for the executor's intent writer (SQL, real PostgreSQL) and the
 *    WebSocket routing table (SubscriptionIndex over the repository), case by case;
 *  - the database's refusals become the API's answers in the repository (P2002 → 409, P2025 → 404).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../src/app.js';
import type { Connection } from '../src/distribution/connection.js';
import { SubscriptionIndex } from '../src/distribution/subscription-index.js';
import { IntentWriter } from '../src/execution/intents.js';
import { AppError } from '../src/lib/errors.js';
import { admits, createSubscriptions, type SubscriptionRepository } from '../src/subscriptions/index.js';
import { registerUser, seedStrategy, startTestApp, uniquePair } from './support/app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir = path.join(ROOT, 'src')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [path.relative(ROOT, full)] : [];
  });
}
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

describe('subscriptions module: boundaries', function () {
  this.timeout(120_000);

  it('an import of src/subscriptions internals from another module fails depcruise; the same import through its index passes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'subs-boundary-'));
    try {
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'tsconfig.json'), read('tsconfig.json'));
      const files: Record<string, string> = {
        'src/subscriptions/index.ts': "export { openKeys } from './repository.js';\n",
        'src/subscriptions/repository.ts': 'export const openKeys = (e: string) => e;\n',
        // The finding: the executor decrypting keys itself by reaching into the repository file.
        'src/execution/runner.ts': "import { openKeys } from '../subscriptions/repository.js';\nexport const k = openKeys('x');\n",
        'src/execution/index.ts': "export { k } from './runner.js';\n",
        // Allowed: another module through the index.
        'src/distribution/index.ts': "import { openKeys } from '../subscriptions/index.js';\nexport const d = openKeys('y');\n",
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      const violations = await new Promise<{ rule: { name: string }; from: string; to: string }[]>((resolve, reject) => {
        execFile(path.join(ROOT, 'node_modules/.bin/depcruise'), ['--config', path.join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json', 'src'], { cwd: dir, maxBuffer: 16 << 20 }, (err, stdout) => {
          if (!stdout) return reject(err ?? new Error('depcruise printed nothing'));
          resolve((JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } }).summary.violations);
        });
      });
      assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`), ['module-only-through-index: src/execution/runner.ts → src/subscriptions/repository.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no source outside src/subscriptions imports one of its files other than index.ts', () => {
    const deep = /from '(?:\.\.\/)+subscriptions\/(?!index\.js')[^']+'/;
    assert.deepEqual(sourceFiles().filter((f) => !f.startsWith('src/subscriptions/') && deep.test(read(f))), []);
  });

  it('API keys are opened only by the repository: the only other decryption in src is of notification webhook secrets', () => {
    const decrypting = sourceFiles().filter((f) => f !== 'src/lib/crypto.ts' && /\.decrypt\(/.test(read(f)));
    assert.deepEqual(decrypting.sort(), ['src/notifications/index.ts', 'src/subscriptions/repository.ts']);
    const elsewhere = read('src/notifications/index.ts').match(/\.decrypt\([^)]*\)/g) ?? [];
    assert.ok(elsewhere.length > 0 && elsewhere.every((call) => /webhookSecretEnc/.test(call)), `notifications decrypts only webhook secrets: ${elsewhere.join(', ')}`);
    // Both users of the keys go through the repository's one function.
    assert.match(read('src/execution/deps.ts'), /keys\.openKeys\(sub\)/);
    for (const runner of ['src/execution/runner.ts', 'src/execution/futures-runner.ts']) assert.match(read(runner), /openKeys\(this\.d\.keys, sub\)/);
    assert.match(read('src/subscriptions/routes.ts'), /subs\.openKeys\(/);
  });

  it('keysInvalid and the key envelopes are written only by the subscriptions module', () => {
    const writes = /"keysInvalid"\s*=|keysInvalid:\s*(?:true|false|!)|apiKeyEnc:\s*\w+\.encrypt|"apiKeyEnc"\s*=/;
    assert.deepEqual(sourceFiles().filter((f) => !f.startsWith('src/subscriptions/') && writes.test(read(f))), []);
  });

  it('the intent writer takes its WHERE clause from the subscriptions module (no copy of the rule in execution)', () => {
    const intents = read('src/execution/intents.ts');
    assert.match(intents, /\$\{EXECUTES_SQL\}/);
    assert.doesNotMatch(intents, /subscribedPairs|"allPairs"|"hasKeys"/);
    assert.doesNotMatch(read('src/distribution/subscription-index.ts'), /status: 'ACTIVE'|findMany/);
  });
});

describe('subscriptions module: one matching rule for the executor and the WebSocket index', function () {
  this.timeout(60_000);
  let app: App;
  let repo: SubscriptionRepository;

  before(async () => {
    app = await startTestApp({ ROLES: 'api' });
    repo = createSubscriptions({ prisma: app.db.prisma, keyring: app.keyring, bus: app.bus });
  });
  after(async () => { await app?.stop(); });

  interface Case { name: string; status: 'ACTIVE' | 'PAUSED' | 'CANCELLED'; allPairs: boolean; pairs: 'A' | 'B' | 'AB' | ''; hasKeys: boolean; positionOn?: 'A' | 'B' }
  const CASES: Case[] = [
    { name: 'active, all pairs, keys', status: 'ACTIVE', allPairs: true, pairs: '', hasKeys: true },
    { name: 'active, pair B listed, keys', status: 'ACTIVE', allPairs: false, pairs: 'B', hasKeys: true },
    { name: 'active, pairs A and B listed, keys', status: 'ACTIVE', allPairs: false, pairs: 'AB', hasKeys: true },
    { name: 'active, all pairs, no keys', status: 'ACTIVE', allPairs: true, pairs: '', hasKeys: false },
    { name: 'paused, all pairs, keys', status: 'PAUSED', allPairs: true, pairs: '', hasKeys: true },
    { name: 'paused, all pairs, keys, holds A', status: 'PAUSED', allPairs: true, pairs: '', hasKeys: true, positionOn: 'A' },
    { name: 'cancelled, pair B listed, keys, holds A', status: 'CANCELLED', allPairs: false, pairs: 'B', hasKeys: true, positionOn: 'A' },
    { name: 'active, pair B listed, no keys, holds A', status: 'ACTIVE', allPairs: false, pairs: 'B', hasKeys: false, positionOn: 'A' },
  ];

  it('for OPEN and CLOSE on listed and unlisted pairs: the WebSocket index admits exactly the followers, the intent writer exactly the followers with keys plus the holders of a CLOSE pair', async () => {
    const { strategyId } = await seedStrategy(app);
    const pair = { A: uniquePair(), B: uniquePair() };
    const pairsOf = (c: Case) => [...c.pairs].map((k) => pair[k as 'A' | 'B']);
    const subs: { c: Case; id: string; userId: string }[] = [];
    for (const c of CASES) {
      const user = await registerUser(app);
      const sub = await app.db.prisma.subscription.create({
        data: {
          userId: user.user.id, strategyId, exchange: 'binance', status: c.status, allPairs: c.allPairs, subscribedPairs: pairsOf(c), sizing: { mode: 'quote', amount: 10 },
          hasKeys: c.hasKeys, ...(c.hasKeys ? { apiKeyEnc: app.keyring.encrypt('k'), apiSecretEnc: app.keyring.encrypt('s') } : {}),
        },
      });
      if (c.positionOn) await app.db.prisma.position.create({ data: { subscriptionId: sub.id, strategyId, pair: pair[c.positionOn], qty: 1, avgPrice: 100 } });
      subs.push({ c, id: sub.id, userId: user.user.id });
    }
    // The WebSocket side: the real routing table over the repository, one connection per subscriber.
    const index = new SubscriptionIndex(repo);
    const conns = new Map<string, Connection>();
    for (const s of subs) {
      const conn = { userId: s.userId, closed: false, strategies: new Set<string>() } as unknown as Connection;
      await index.add(conn, () => {});
      conns.set(s.id, conn);
    }
    const wsReceives = (subId: string, p: string) => admits(index.targets(strategyId)?.get(conns.get(subId)!), p);

    // The executor side: the real intent writer, advanced after each signal (so a CLOSE sees the OPEN's rows).
    const writer = new IntentWriter(app.db.pool);
    await writer.init();
    const drain = async () => { while ((await writer.advance()).signals > 0) { /* next batch */ } };
    await drain();

    const follows = (c: Case, p: string) => c.status === 'ACTIVE' && (c.allPairs || pairsOf(c).includes(p));
    const pendingOn = new Map<string, Set<string>>(); // subscription → pairs with a PENDING row (no executor runs here)
    const steps: { action: 'OPEN' | 'CLOSE'; on: 'A' | 'B' }[] = [{ action: 'OPEN', on: 'A' }, { action: 'OPEN', on: 'B' }, { action: 'CLOSE', on: 'A' }, { action: 'CLOSE', on: 'B' }];
    let checked = 0;
    for (const step of steps) {
      const p = pair[step.on];
      const { signal } = await app.coordinator.accept({ strategyId, pair: p, action: step.action, direction: 'LONG', price: 100 }, 'api');
      assert.ok(signal, `${step.action} ${step.on} accepted`);
      await drain();
      const rows = await app.db.prisma.executionLog.findMany({ where: { signalId: signal.id }, select: { subscriptionId: true } });
      const executed = new Set(rows.map((r) => r.subscriptionId));
      for (const s of subs) {
        const what = `${step.action} ${step.on} → ${s.c.name}`;
        const holds = s.c.positionOn === step.on || (pendingOn.get(s.id)?.has(p) ?? false);
        const expectWs = follows(s.c, p);
        const expectExec = s.c.hasKeys && (expectWs || (step.action === 'CLOSE' && holds));
        assert.equal(wsReceives(s.id, p), expectWs, `WebSocket: ${what}`);
        assert.equal(executed.has(s.id), expectExec, `intent: ${what}`);
        // Where nothing is held, the two sides agree for every subscriber with keys.
        if (s.c.hasKeys && !holds) assert.equal(executed.has(s.id), wsReceives(s.id, p), `agree: ${what}`);
        if (executed.has(s.id)) pendingOn.set(s.id, (pendingOn.get(s.id) ?? new Set()).add(p));
        checked++;
      }
    }
    assert.equal(checked, CASES.length * steps.length);
    // The cases exercised both sides of every clause: a follower without keys, a holder that does not follow.
    assert.ok(CASES.some((c) => !c.hasKeys && c.status === 'ACTIVE') && CASES.some((c) => c.positionOn && c.status !== 'ACTIVE'));
  });

  it('a subscription change reaches the index: pausing removes the route, listing a pair narrows it (same rule after the change)', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const [a, b] = [uniquePair(), uniquePair()];
    const sub = await repo.create(user.user.id, { strategyId, exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 }, risk: {}, maxSlippagePercent: 2 });
    const index = new SubscriptionIndex(repo);
    const conn = { userId: user.user.id, closed: false, strategies: new Set<string>() } as unknown as Connection;
    await index.add(conn, () => {});
    const admitted = (p: string) => admits(index.targets(strategyId)?.get(conn), p);
    assert.deepEqual([admitted(a), admitted(b)], [true, true]);
    await repo.update(sub.id, { allPairs: false, pairs: [b] });
    await index.changed(user.user.id);
    assert.deepEqual([admitted(a), admitted(b)], [false, true]);
    await repo.update(sub.id, { status: 'PAUSED' });
    await index.changed(user.user.id);
    assert.deepEqual([admitted(a), admitted(b)], [false, false]);
  });
});

describe('subscriptions module: the repository converts the database refusals', function () {
  this.timeout(60_000);
  let app: App;
  let repo: SubscriptionRepository;

  before(async () => {
    app = await startTestApp({ ROLES: 'api' });
    repo = createSubscriptions({ prisma: app.db.prisma, keyring: app.keyring, bus: app.bus });
  });
  after(async () => { await app?.stop(); });

  const terms = (strategyId: string) => ({ strategyId, exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 }, risk: {}, maxSlippagePercent: 2 });
  const refusal = async (p: Promise<unknown>) => {
    try { await p; } catch (err) { return err; }
    assert.fail('expected a refusal');
  };

  it('a second live subscription (the partial unique index, P2002) is AppError 409 ALREADY_SUBSCRIBED, from create and from resuming a second one', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const first = await repo.create(user.user.id, terms(strategyId));
    const dup = await refusal(repo.create(user.user.id, terms(strategyId)));
    assert.ok(dup instanceof AppError, String(dup));
    assert.deepEqual([dup.code, dup.status], ['ALREADY_SUBSCRIBED', 409]);
    // A cancelled one resumed while a new one is live: the same index, through update.
    await repo.cancel(first.id);
    await repo.create(user.user.id, terms(strategyId));
    const resumed = await refusal(repo.update(first.id, { status: 'ACTIVE' }));
    assert.ok(resumed instanceof AppError);
    assert.deepEqual([resumed.code, resumed.status], ['ALREADY_SUBSCRIBED', 409]);
  });

  it('a row gone under a write (P2025) is 404 SUBSCRIPTION_NOT_FOUND; an unknown strategy 404 STRATEGY_NOT_FOUND; another user\'s subscription the same miss', async () => {
    const gone = await refusal(repo.update(randomUUID(), { status: 'PAUSED' }));
    assert.ok(gone instanceof AppError, String(gone));
    assert.deepEqual([gone.code, gone.status], ['SUBSCRIPTION_NOT_FOUND', 404]);
    const cancelGone = await refusal(repo.cancel(randomUUID()));
    assert.ok(cancelGone instanceof AppError);
    assert.deepEqual([cancelGone.code, cancelGone.status], ['SUBSCRIPTION_NOT_FOUND', 404]);
    const user = await registerUser(app);
    const noStrategy = await refusal(repo.create(user.user.id, terms(randomUUID())));
    assert.ok(noStrategy instanceof AppError);
    assert.deepEqual([noStrategy.code, noStrategy.status], ['STRATEGY_NOT_FOUND', 404]);
    const { strategyId } = await seedStrategy(app);
    const mine = await repo.create(user.user.id, terms(strategyId));
    const stranger = await registerUser(app);
    const theirs = await refusal(repo.owned(stranger.user.id, mine.id));
    assert.ok(theirs instanceof AppError);
    assert.deepEqual([theirs.code, theirs.status], ['SUBSCRIPTION_NOT_FOUND', 404]);
  });

  it('sealed keys open only through openKeys; an envelope this keyring cannot read is 409 KEY_DECRYPT_FAILED, never the plain text', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    const s = await repo.create(user.user.id, { ...terms(strategyId), apiKey: 'api-key-123456', apiSecret: 'secret-abcdef' });
    assert.equal(s.hasKeys, true);
    assert.notEqual(s.apiKeyEnc, 'api-key-123456');
    assert.deepEqual(repo.openKeys(s), { apiKey: 'api-key-123456', secret: 'secret-abcdef' });
    const foreign = await refusal(Promise.resolve().then(() => repo.openKeys({ apiKeyEnc: s.apiKeyEnc!.replace(/^v1:[0-9a-f]{8}/, 'v1:00000000'), apiSecretEnc: s.apiSecretEnc })));
    assert.ok(foreign instanceof AppError);
    assert.deepEqual([foreign.code, foreign.status], ['KEY_DECRYPT_FAILED', 409]);
    await repo.markKeysInvalid(s.id);
    assert.equal((await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: s.id } })).keysInvalid, true);
    // New keys are presumed valid again.
    const renewed = await repo.update(s.id, { apiKey: 'api-key-7890ab', apiSecret: 'secret-7890ab' });
    assert.deepEqual([renewed.keysInvalid, renewed.apiKeyMasked], [false, 'api-…90ab']);
  });
});
