/**
 * Redis connection state in the log (src/lib/redis-state.ts): a real ioredis client against a port where
 * nothing listens retries many times; the log gets one warning, not one per attempt. When Redis comes up
 * on that port (a relay to the test Redis), one "redis back" line. A flapping connection logs at most one down warning per interval.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { logRedisState } from '../src/lib/redis-state.js';
import { TEST_REDIS_URL } from './support/env.js';
import { freePort } from './support/processes.js';

/** A pino logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { log: pino({ level: 'info' }, stream), lines };
}

const until = async (cond: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('Redis connection state in the log', function () {
  this.timeout(30_000);

  it('against a closed port: one warning while ioredis retries 100+ times; one "redis back" when a server appears there', async () => {
    const port = await freePort();
    const { log, lines } = capturingLogger();
    const redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 5, maxRetriesPerRequest: 0, lazyConnect: true });
    let errors = 0;
    redis.on('error', () => { errors++; });
    const detach = logRedisState(redis, log, { name: 'test' });
    redis.connect().catch(() => {});
    try {
      await until(() => errors >= 100, 20_000, '100 connection errors');
      const warnings = lines.filter((l) => l.level === 40);
      assert.equal(warnings.length, 1, JSON.stringify(warnings.slice(0, 3)));
      assert.equal(warnings[0]!.msg, 'redis unreachable: retrying (logged again when it is back)');
      assert.equal(warnings[0]!.redis, 'test');
      assert.match(String((warnings[0]!.err as { message?: string }).message), /ECONNREFUSED/);

      // Redis appears on that port (a TCP relay to the test Redis): ioredis reconnects and becomes ready.
      const target = new URL(TEST_REDIS_URL);
      const fake = net.createServer((s) => {
        const up = net.connect(Number(target.port || 6379), target.hostname);
        s.pipe(up).pipe(s);
        up.on('error', () => s.destroy());
        s.on('error', () => up.destroy());
        s.on('close', () => up.destroy());
      });
      await new Promise<void>((r) => fake.listen(port, '127.0.0.1', () => r()));
      try {
        await until(() => lines.some((l) => l.msg === 'redis back'), 10_000, 'the back line');
        const back = lines.find((l) => l.msg === 'redis back')!;
        assert.equal(back.level, 30);
        assert.ok((back.errors as number) >= 100, `errors while down: ${back.errors}`);
        assert.ok((back.downMs as number) > 0);
        assert.equal(lines.filter((l) => l.level >= 40).length, 1, 'still the one warning');
      } finally {
        detach();
        redis.disconnect();
        await new Promise<void>((r) => fake.close(() => r()));
      }
    } finally {
      detach();
      redis.disconnect();
    }
  });

  it('a flapping connection: at most one down warning per interval, the next one says how many downs went unlogged', () => {
    const { log, lines } = capturingLogger();
    const client = new EventEmitter();
    let t = 0;
    logRedisState(client, log, { name: 'flap', minIntervalMs: 60_000, now: () => t });
    for (let i = 0; i < 10; i++) {
      client.emit('error', new Error('ECONNRESET'));
      client.emit('error', new Error('ECONNREFUSED'));
      t += 1_000;
      client.emit('ready');
      t += 1_000;
    }
    assert.deepEqual(lines.map((l) => l.msg), ['redis unreachable: retrying (logged again when it is back)', 'redis back']);
    t += 60_000;
    client.emit('error', new Error('ECONNRESET'));
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1]!.unloggedDowns, 9);
  });
});
