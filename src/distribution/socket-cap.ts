/**
 * Per-user socket cap: at most `max` open /ws/signals sockets per user, so one account cannot hold
 * thousands of sockets (memory, fan-out work, file descriptors) at everyone else's expense.
 * Vocabulary: a *slot* is one counted socket; `acquire` reserves one (or answers null at the cap) and
 * the returned release frees it when the socket closes.
 *
 * With Redis the count is cluster-wide: each user has a set `<prefix>ws:sockets:<userId>` of members
 * `<instance>|<n>`; each process keeps `<prefix>ws:alive:<instance>` alive (TTL 30 s, renewed every
 * 10 s). A Lua script drops members of instances whose alive key is gone (a crashed worker's sockets
 * stop counting within 30 s), counts the rest and adds the new member only under the cap, atomically.
 * When Redis cannot answer, the cap falls back to this process's own count (never blocks everyone).
 * Without Redis the count is per process (one process in that setup).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

/** Frees a slot; idempotent. */
export type Release = () => void;

export interface SocketCap {
  /** Reserves a slot for `userId`: a release function, or null when the user already holds `max`. */
  acquire(userId: string): Promise<Release | null>;
  start(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
}

/** Counts this process's sockets per user. */
export class LocalSocketCap implements SocketCap {
  private readonly counts = new Map<string, number>();

  constructor(readonly max: number) {}

  async acquire(userId: string): Promise<Release | null> { return this.tryAcquire(userId); }

  /** Synchronous reservation (also the Redis cap's fallback). */
  tryAcquire(userId: string): Release | null {
    const n = this.counts.get(userId) ?? 0;
    if (n >= this.max) return null;
    this.counts.set(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(userId) ?? 1) - 1;
      if (left > 0) this.counts.set(userId, left); else this.counts.delete(userId);
    };
  }

  async start() {}
  async stop() {}
}

const ALIVE_TTL_MS = 30_000;
const ALIVE_RENEW_MS = 10_000;
/** A user's set outlives any socket it counts (sockets end with their JWT); it only bounds leftovers. */
const USER_SET_TTL_MS = 7 * 24 * 3600_000;

/** KEYS[1] user set; ARGV: max, member, alive-key prefix, set TTL (ms). Returns 1 when added, 0 at the cap. */
const ACQUIRE_LUA = `
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local inst = string.match(m, '^(.-)|')
  if inst and redis.call('EXISTS', ARGV[3] .. inst) == 1 then n = n + 1 else redis.call('SREM', KEYS[1], m) end
end
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** The cluster-wide cap (see the module header). */
export class RedisSocketCap implements SocketCap {
  private readonly instance = randomBytes(8).toString('hex');
  private readonly local: LocalSocketCap;
  private next = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: { redis: Redis; prefix: string; max: number; log: Logger }) {
    this.local = new LocalSocketCap(deps.max);
  }

  private get aliveKey() { return `${this.deps.prefix}ws:alive:${this.instance}`; }

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => { void this.renew(); }, ALIVE_RENEW_MS);
    this.timer.unref();
  }

  /** Stops renewing and withdraws this process (its remaining members stop counting at once). */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.deps.redis.del(this.aliveKey).catch(() => { /* expires on its own */ });
  }

  async acquire(userId: string): Promise<Release | null> {
    // The local count is kept too: it is the fallback, and a process never exceeds the cap on its own.
    const local = this.local.tryAcquire(userId);
    if (!local) return null;
    const { redis, prefix, max } = this.deps;
    const key = `${prefix}ws:sockets:${userId}`;
    const member = `${this.instance}|${++this.next}`;
    let added: unknown;
    try {
      added = await redis.eval(ACQUIRE_LUA, 1, key, max, member, `${prefix}ws:alive:`, USER_SET_TTL_MS);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, userId }, 'socket cap: Redis unavailable, counting this process only');
      return local;
    }
    if (added !== 1) { local(); return null; }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      local();
      redis.srem(key, member).catch(() => { /* the member dies with this instance's alive key */ });
    };
  }

  private async renew(): Promise<void> {
    try {
      await this.deps.redis.set(this.aliveKey, '1', 'PX', ALIVE_TTL_MS);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'socket cap: could not renew this process in Redis');
    }
  }
}
