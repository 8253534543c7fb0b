/**
 * Subscriptions module: the Subscription model's one owner. Its repository holds the matching rule
 * (which subscriptions a signal reaches, matching.ts: SQL for the executor's intents, a Prisma filter
 * for the WebSocket routing table), the only sealing and opening of API keys, `keysInvalid`, and the
 * conversion of the database's refusals (P2002 → 409 ALREADY_SUBSCRIBED, P2025 → 404). Its REST routes
 * (CRUD and test-keys) serve role api. Other modules use it only through this file.
 */
import type { PrismaClient } from '@prisma/client';
import type { Redis } from 'ioredis';
import type { Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import type { KeyThrottle, VenueBudget } from '../exchange/index.js';
import { currentUser, type TokenService } from '../http/auth.js';
import { createLimiter } from '../http/rate-limit.js';
import type { Keyring } from '../lib/crypto.js';
import { KeyChecker } from './key-check.js';
import { SubscriptionRepository } from './repository.js';
import { subscriptionRoutes } from './routes.js';

export { SubscriptionRepository, type KeyEnvelope, type OpenKeys, type SubscriptionKeys, type SubscriptionFollows, type NewSubscription, type SubscriptionChange } from './repository.js';
export { EXECUTES_SQL, FOLLOWS_SQL, FOLLOWING, admits, foldRoutes, type FollowRow, type PairFilter, type UserRoutes } from './matching.js';
export { subscriptionView, FUTURES_EXCHANGES, SUPPORTED_EXCHANGES } from './routes.js';
export { KeyChecker, type KeyCheckResult } from './key-check.js';

/** The repository every process shares (api routes, executor, WebSocket routing). */
export function createSubscriptions(deps: { prisma: PrismaClient; keyring: Keyring; bus: Bus }): SubscriptionRepository {
  return new SubscriptionRepository(deps);
}

type ApiConfig = Pick<Config, 'exchangeUrls' | 'exchangeTimeoutMs' | 'exchangeRecvWindowMs' | 'redisPrefix' | 'testKeysRateLimitPerMinute'>;

/**
 * The REST routes (role api). test-keys spends the venue's shared request budget as non-order traffic and
 * the executor's per-key throttle (`throttle`), so tests and orders of one account share its allowance.
 */
export function subscriptionsApiComponent(deps: {
  config: ApiConfig; subscriptions: SubscriptionRepository; tokens: TokenService; budget: VenueBudget; throttle: KeyThrottle; redis?: Redis;
}): Component {
  const c = deps.config;
  const keyChecker = new KeyChecker({ exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, recvWindowMs: c.exchangeRecvWindowMs, budget: deps.budget, throttle: deps.throttle });
  const testKeysLimiter = createLimiter({
    prefix: c.redisPrefix, name: 'test-keys', perMinute: c.testKeysRateLimitPerMinute, redis: deps.redis,
    key: (req) => `tk:${currentUser(req).id}`, message: `at most ${c.testKeysRateLimitPerMinute} key tests per minute; try again in a minute`,
  });
  return {
    name: 'subscriptions-api', start: async () => {}, stop: async () => {},
    routers: [subscriptionRoutes({ subscriptions: deps.subscriptions, tokens: deps.tokens, keyChecker, testKeysLimiter })],
  };
}
