/**
 * KeyThrottle: at most `perSecond` requests per scope (one exchange account = one API key hash) per
 * one-second window, shared by every executor process through Redis when available, else per process.
 * Scopes are hashes of the key, never the key itself.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Hash identifying an exchange account in throttle keys and logs (never the key itself). */
export const keyScope = (exchange: string, apiKey: string) => `${exchange}:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;

/** Requests per second one key may make: ccxt's own spacing for the venue (rateLimit ms), at least 1. */
export const perKeyRate = (minIntervalMs: number) => Math.max(1, Math.floor(1000 / Math.max(1, minIntervalMs)));

export interface KeyThrottle {
  /** Resolves when one more request in `scope` is allowed. */
  acquire(scope: string, perSecond: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const LUA = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], 1100) end return n`;

/** Fixed one-second windows in Redis (`<prefix>rl:<scope>:<epochSecond>`). */
export class RedisKeyThrottle implements KeyThrottle {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async acquire(scope: string, perSecond: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const n = Number(await this.redis.eval(LUA, 1, `${this.prefix}rl:${scope}:${second}`));
      if (n <= perSecond) return;
      await sleep((second + 1) * 1000 - now + 1);
    }
  }
}

/** The same windows in process memory (one process, or no Redis). */
export class MemoryKeyThrottle implements KeyThrottle {
  private readonly windows = new Map<string, { second: number; n: number }>();

  async acquire(scope: string, perSecond: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      let w = this.windows.get(scope);
      if (!w || w.second !== second) { w = { second, n: 0 }; this.windows.set(scope, w); }
      if (this.windows.size > 10_000) for (const [k, v] of this.windows) if (v.second < second) this.windows.delete(k);
      if (++w.n <= perSecond) return;
      await sleep((second + 1) * 1000 - now + 1);
    }
  }
}

const memoryThrottles = new Map<string, MemoryKeyThrottle>();

/**
 * The key throttle of a deployment: in Redis when given (shared by every process), else in this process,
 * one per prefix, so the executor and test-keys in one process count the same windows.
 */
export function createKeyThrottle(redis: Redis | undefined, prefix: string): KeyThrottle {
  if (redis) return new RedisKeyThrottle(redis, prefix);
  let t = memoryThrottles.get(prefix);
  if (!t) { t = new MemoryKeyThrottle(); memoryThrottles.set(prefix, t); }
  return t;
}
