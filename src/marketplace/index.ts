/** Marketplace module: accounts, strategies, subscriptions, track records and verification (REST), the site. */
import type { AppContext, Component } from '../component.js';
import { createKeyThrottle } from '../exchange/index.js';
import { currentUser } from '../http/auth.js';
import { createLimiter } from '../http/rate-limit.js';
import { accountRoutes } from './account-routes.js';
import { adminRoutes } from './admin-routes.js';
import { KeyChecker } from './key-check.js';
import { pageRoutes } from './pages.js';

export { authRoutes, BCRYPT_ROUNDS, loginLimiters } from './auth-routes.js';
export { SITE_DIR } from './pages.js';
export { strategyRoutes } from './strategy-routes.js';
export { subscriptionRoutes, subscriptionView, SUPPORTED_EXCHANGES } from './subscription-routes.js';
export { trackStats, equityCurve, type TrackStats, type EquityPoint } from './stats.js';
export { verifyStrategy, type VerifyReport } from './verify.js';
export { KeyChecker, type KeyCheckResult } from './key-check.js';

/** Site pages and the user/admin routes beyond the core REST (role api). */
export function marketplaceComponent(ctx: AppContext): Component {
  const c = ctx.config;
  const keyChecker = new KeyChecker({
    exchangeUrls: c.exchangeUrls, timeoutMs: c.exchangeTimeoutMs, recvWindowMs: c.exchangeRecvWindowMs,
    budget: ctx.exchangeBudget, throttle: createKeyThrottle(ctx.redis, c.redisPrefix),
  });
  const testKeysLimiter = createLimiter({
    prefix: c.redisPrefix, name: 'test-keys', perMinute: c.testKeysRateLimitPerMinute, redis: ctx.redis,
    key: (req) => `tk:${currentUser(req).id}`, message: `at most ${c.testKeysRateLimitPerMinute} key tests per minute; try again in a minute`,
  });
  const deps = { prisma: ctx.db.prisma, tokens: ctx.tokens };
  return {
    name: 'marketplace-site',
    start: async () => {},
    stop: async () => {},
    routers: [accountRoutes({ ...deps, keyring: ctx.keyring, keyChecker, testKeysLimiter, tradingMode: c.tradingMode }), adminRoutes(deps), pageRoutes()],
  };
}
