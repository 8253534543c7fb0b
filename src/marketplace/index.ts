/**
 * Marketplace module: accounts, strategies, track records and verification (REST), the site.
 * Subscriptions are their own module (src/subscriptions).
 */
import type { PrismaClient } from '@prisma/client';
import type { Redis } from 'ioredis';
import type { Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import type { TokenService } from '../http/auth.js';
import { accountRoutes } from './account-routes.js';
import { adminRoutes } from './admin-routes.js';
import { authRoutes, loginLimiters } from './auth-routes.js';
import { pageRoutes } from './pages.js';
import { strategyRoutes } from './strategy-routes.js';
import type { CurrentPrices } from './strategy-trades.js';

export { authRoutes, BCRYPT_ROUNDS, loginLimiters } from './auth-routes.js';
export { SITE_DIR } from './pages.js';
export { strategyRoutes } from './strategy-routes.js';
export { trackStats, equityCurve, type TrackStats, type EquityPoint } from './stats.js';
export { verifyStrategy, type VerifyReport } from './verify.js';

type MarketplaceConfig = Pick<Config, 'redisPrefix' | 'loginRateLimitPerMinute' | 'loginIpRateLimitPerMinute' | 'priceBandPercent' | 'tradingMode' | 'publicBaseUrl'>;

/**
 * Accounts (register/login, limited per email and per IP), strategies, the user's and admin's views and
 * the site's pages (role api). `onSecretRotated`: a strategy's webhook secret changed (this process's cache).
 */
export function marketplaceComponent(deps: {
  config: MarketplaceConfig; prisma: PrismaClient; tokens: TokenService; bus: Bus; redis?: Redis; onSecretRotated: (strategyId: string) => void;
  /** The reference market's current prices (open trades' unrealised PnL). */
  prices?: CurrentPrices;
}): Component {
  const { config: c, prisma, tokens } = deps;
  const limiters = loginLimiters({ prefix: c.redisPrefix, redis: deps.redis, perEmailPerMinute: c.loginRateLimitPerMinute, perIpPerMinute: c.loginIpRateLimitPerMinute });
  return {
    name: 'marketplace',
    start: async () => {},
    stop: async () => {},
    routers: [
      authRoutes({ prisma, tokens, loginLimiters: limiters }),
      strategyRoutes({ prisma, tokens, bus: deps.bus, priceBandPercent: c.priceBandPercent, prices: deps.prices, onSecretRotated: deps.onSecretRotated, publicBaseUrl: c.publicBaseUrl }),
      accountRoutes({ prisma, tokens, tradingMode: c.tradingMode }),
      adminRoutes({ prisma, tokens }),
      pageRoutes(),
    ],
  };
}
