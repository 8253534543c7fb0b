/** Marketplace module: accounts, strategies, subscriptions (REST). */
export { authRoutes, BCRYPT_ROUNDS } from './auth-routes.js';
export { strategyRoutes } from './strategy-routes.js';
export { subscriptionRoutes, subscriptionView, SUPPORTED_EXCHANGES } from './subscription-routes.js';
export { trackStats, type TrackStats } from './stats.js';
