import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, withDevSecrets } from '../src/config/index.js';
import { Keyring, maskSecret } from '../src/lib/crypto.js';

const good = { JWT_SECRET: 'j'.repeat(40), KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(good);
    assert.equal(c.port, 3000);
    assert.equal(c.tradingMode, 'paper');
    assert.equal(c.chromiumPath, '/usr/bin/chromium');
    assert.equal(c.dedupWindowMs, 120 * 60_000);
    assert.equal(c.reconcileIntervalMs, 15_000);
    assert.ok(Object.isFrozen(c));
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /^PORT /],
    [{ KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }, /^KEY_ENCRYPTION_KEY must be 32 bytes/],
    [{ TRADING_MODE: 'yolo' }, /^TRADING_MODE /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be a URL/],
    [{ ROLES: 'api,web' }, /^ROLES has unknown role "web"/],
    [{ EXCHANGE_URL_BINANCE: 'not a url' }, /^EXCHANGE_URL_BINANCE must be a URL/],
    [{ RECONCILE_INTERVAL_MS: '50' }, /^RECONCILE_INTERVAL_MS /],
  ];
  for (const [env, msg] of bad) {
    it(`refuses ${JSON.stringify(env)} naming the key`, () => {
      assert.throws(() => loadConfig({ ...good, ...env }), (e: Error) => e instanceof ConfigError && msg.test(e.message));
    });
  }

  it('requires JWT_SECRET and KEY_ENCRYPTION_KEY (no defaults for secrets)', () => {
    assert.throws(() => loadConfig({ KEY_ENCRYPTION_KEY: good.KEY_ENCRYPTION_KEY }), /JWT_SECRET is required/);
  });

  it('TRUST_PROXY=false/true/2 reach express as a boolean or a hop count, not as an address named "false"', () => {
    assert.equal(loadConfig({ ...good, TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ ...good, TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ ...good, TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(loadConfig({ ...good, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy, 'loopback, 10.0.0.0/8');
  });

  it('maps EXCHANGE_URL_<ID> to an origin per exchange id', () => {
    assert.deepEqual(loadConfig({ ...good, EXCHANGE_URL_BINANCE: 'http://127.0.0.1:9001/' }).exchangeUrls, { binance: 'http://127.0.0.1:9001' });
  });

  it('outside production generates missing secrets once into DATA_DIR/secrets.json with mode 0600', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-cfg-'));
    const first = withDevSecrets({ DATA_DIR: dir });
    assert.deepEqual(first.generated.sort(), ['JWT_SECRET', 'KEY_ENCRYPTION_KEY']);
    assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);
    const second = withDevSecrets({ DATA_DIR: dir });
    assert.deepEqual(second.generated, []);
    assert.equal(second.env.JWT_SECRET, first.env.JWT_SECRET);
    assert.doesNotThrow(() => loadConfig(second.env));
    assert.ok(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).KEY_ENCRYPTION_KEY);
  });

  it('in production a missing secret stops start-up with one clear line and exit code 1', function () {
    this.timeout(20_000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH, NODE_ENV: 'production', DATA_DIR: os.tmpdir() }, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^config error: JWT_SECRET is required/);
  });
});

describe('secrets at rest (Keyring)', () => {
  it('round-trips through a v1 AES-256-GCM envelope that does not contain the plaintext', () => {
    const k = new Keyring(randomBytes(32));
    const env = k.encrypt('my-api-secret-123');
    assert.match(env, /^v1:[0-9a-f]{8}:/);
    assert.ok(!env.includes('my-api-secret'));
    assert.equal(k.decrypt(env), 'my-api-secret-123');
  });

  it('reads envelopes of a previous key after rotation and flags them stale; a foreign key cannot read them', () => {
    const oldKey = randomBytes(32);
    const env = new Keyring(oldKey).encrypt('s3cret');
    const rotated = new Keyring(randomBytes(32), [oldKey]);
    assert.equal(rotated.decrypt(env), 's3cret');
    assert.equal(rotated.isStale(env), true);
    assert.equal(rotated.isStale(rotated.encrypt('x')), false);
    assert.throws(() => new Keyring(randomBytes(32)).decrypt(env), /KEY_DECRYPT_FAILED|cannot decrypt/);
  });

  it('detects a tampered ciphertext', () => {
    const k = new Keyring(randomBytes(32));
    const parts = k.encrypt('value').split(':');
    parts[4] = Buffer.from('other').toString('base64');
    assert.throws(() => k.decrypt(parts.join(':')));
  });

  it('masks keys as abcd…wxyz', () => {
    assert.equal(maskSecret('abcdefghijklmnopwxyz'), 'abcd…wxyz');
  });
});
