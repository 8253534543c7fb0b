// PM2 production layout: the API/WebSocket app in cluster mode, the executor and the capturer as their own
// apps, and exactly one process holding the `store` role (the JSON store writer: the executor app).
// PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) are required once there is more than one process.
// Start: `npm ci && npm run prisma:generate && pm2 start ecosystem.config.js` (`--env production` is the same).
// This file is an ES module (package.json "type": "module"); PM2 require()s it, so it exports `apps` by name
// (Node >= 20.19 loads ES modules through require()).
const apiPort = Number(process.env.PORT) || 3000;
const logDir = process.env.LOG_DIR || 'logs';

const common = {
  script: 'scripts/pm2-entry.js', // registers tsx, then src/main.ts (works in cluster and fork mode)
  cwd: import.meta.dirname,
  merge_logs: true,
  time: false,
  kill_timeout: 20000, // our shutdown is bounded at 15 s
  listen_timeout: 60000,
  max_restarts: 20,
  min_uptime: '30s',
  exp_backoff_restart_delay: 200,
};
// `pm2 start ecosystem.config.js` alone is the production layout; `--env production` is the same.
const production = (env) => ({ env: { NODE_ENV: 'production', ...env }, env_production: { NODE_ENV: 'production', ...env } });

export const apps = [
  {
    ...common,
    name: 'sm-api',
    exec_mode: 'cluster',
    instances: Number(process.env.API_INSTANCES) || 2,
    max_memory_restart: process.env.API_MAX_MEMORY || '768M',
    out_file: `${logDir}/api.out.log`,
    error_file: `${logDir}/api.err.log`,
    // Each worker also serves /health and /metrics alone on loopback API_METRICS_PORT + its instance (3010, 3011, …):
    // the shared PORT answers from whichever worker takes the connection, so Prometheus scrapes these.
    ...production({ ROLES: 'api', PORT: apiPort, METRICS_PORT: Number(process.env.API_METRICS_PORT) || 3010 }),
  },
  {
    ...common,
    name: 'sm-executor',
    exec_mode: 'fork',
    instances: 1,
    max_memory_restart: process.env.EXECUTOR_MAX_MEMORY || '512M',
    out_file: `${logDir}/executor.out.log`,
    error_file: `${logDir}/executor.err.log`,
    // PORT here serves only /health and /metrics (loopback), so this app can be probed on its own.
    ...production({ ROLES: 'executor,store,monitor,notifier', HOST: '127.0.0.1', PORT: Number(process.env.EXECUTOR_HEALTH_PORT) || 3001 }),
  },
  {
    ...common,
    name: 'sm-capturer',
    exec_mode: 'fork',
    instances: 1,
    max_memory_restart: process.env.CAPTURER_MAX_MEMORY || '1G',
    out_file: `${logDir}/capturer.out.log`,
    error_file: `${logDir}/capturer.err.log`,
    ...production({
      ROLES: 'capturer', HOST: '127.0.0.1', PORT: Number(process.env.CAPTURER_HEALTH_PORT) || 3002,
      // Chart pages are served by sm-api; the capturer's own port has only /health.
      CAPTURE_BASE_URL: process.env.CAPTURE_BASE_URL || `http://127.0.0.1:${apiPort}`,
    }),
  },
];
