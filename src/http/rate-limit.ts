/**
 * Rate limiters (express-rate-limit). With Redis the counters are shared by every process
 * (rate-limit-redis), so N workers do not allow N× the limit.
 */
import type { RequestHandler, Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';

export function createLimiter(opts: {
  prefix: string; name: string; perMinute: number; redis?: Redis; key: (req: Request) => string; message: string;
  /** Count only answers ≥ 400 (e.g. failed logins), not successful requests. */
  skipSuccessful?: boolean;
}): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: opts.perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: opts.skipSuccessful ?? false,
    keyGenerator: opts.key,
    validate: { keyGeneratorIpFallback: false },
    store: opts.redis
      ? new RedisStore({ prefix: `${opts.prefix}rl:${opts.name}:`, sendCommand: (command: string, ...args: string[]) => opts.redis!.call(command, ...args) as Promise<RedisReply> })
      : undefined,
    handler: (_req, res) => { res.status(429).json({ error: { code: 'RATE_LIMITED', message: opts.message } }); },
  });
}
