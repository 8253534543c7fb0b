/**
 * Configuration: one schema, `loadConfig(env)` is pure and returns a frozen Config.
 * `withDevSecrets(env)` (outside production) fills JWT_SECRET and KEY_ENCRYPTION_KEY from
 * DATA_DIR/secrets.json, generating them once (mode 0600). The only module that reads process.env is main.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const key32 = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64');
const url = (protocols: string[]) =>
  z.string().refine((v) => { try { return protocols.includes(new URL(v).protocol); } catch { return false; } },
    `must be a URL (${protocols.join(' or ')})`);

const schema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_PREFIX: z.string().default('sm:'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  JWT_EXPIRES_IN: z.string().default('12h'),
  KEY_ENCRYPTION_KEY: key32,
  KEY_ENCRYPTION_KEYS_PREVIOUS: z.string().default(''),
  TRADING_MODE: z.enum(['paper', 'live']).default('paper'),
  CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DEDUP_WINDOW_MINUTES: z.coerce.number().min(0).default(120),
  AUTO_CREATE_STRATEGIES: bool.default(false),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  WEBHOOK_BAD_SECRET_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  PRICE_BAND_PERCENT: z.coerce.number().positive().max(100).default(3),
  PRICE_MAX_AGE_MS: z.coerce.number().int().min(100).default(30_000),
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  LOGIN_IP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  LOG_BUFFER_BYTES: z.coerce.number().int().min(16 * 1024).default(4 * 1024 * 1024),
  BODY_LIMIT: z.string().default('64kb'),
  WS_PING_INTERVAL_MS: z.coerce.number().int().min(50).default(30_000),
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(256 * 1024),
  WS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(64).default(4096),
  WS_CATCHUP_INTERVAL_MS: z.coerce.number().int().min(50).default(1000),
  STORE_POLL_MS: z.coerce.number().int().min(50).default(1000),
  WS_ROUTES_RESYNC_MS: z.coerce.number().int().min(100).default(60_000),
  WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(1000).default(10),
  WS_TICKET_TTL_SECONDS: z.coerce.number().positive().max(300).default(30),
  WS_TICKETS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  METRICS_HOST: z.string().default('127.0.0.1'),
  // Set by PM2 for each instance of an app (0, 1, … in cluster mode).
  NODE_APP_INSTANCE: z.coerce.number().int().min(0).max(1000).optional(),
  OPERATOR_NETWORKS: z.string().default('127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7'),
  CHART_EXCHANGES: z.string().default('binance,bybit,mexc'),
  /** Which parts this process runs: any of api, executor, capturer, store (the JSON store writer), monitor, notifier. */
  ROLES: z.string().default('api,executor,capturer,store,monitor,notifier'),
  TRUST_PROXY: z.string().default('loopback'),
  EXECUTOR_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
  EXECUTOR_LEASE_MS: z.coerce.number().int().min(1000).default(20_000),
  EXECUTOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  EXECUTOR_POLL_MS: z.coerce.number().int().min(50).default(1000),
  EXECUTOR_RETRY_BASE_MS: z.coerce.number().int().min(0).default(1000),
  /** Binance spot stop-limit protective sells: the limit lies this many percent below the trigger. */
  EXECUTOR_STOP_LIMIT_OFFSET_PERCENT: z.coerce.number().min(0.01).max(10).default(0.5),
  /** Futures reconciliation: how often the exchange's positions of every subscription holding one are compared with ours. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(200).max(3_600_000).default(15_000),
  EXCHANGE_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  EXCHANGE_RECV_WINDOW_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  EXCHANGE_BUDGET_PERCENT: z.coerce.number().positive().max(100).default(80),
  EXCHANGE_BUDGET_OTHER_PERCENT: z.coerce.number().positive().max(100).default(50),
  EXCHANGE_BUDGET_MAX_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  TEST_KEYS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(5),
  PAPER_BALANCE: z.coerce.number().positive().default(10_000),
  CAPTURE_TARGETS_FILE: z.string().optional(),
  CAPTURE_TARGETS_RELOAD_MS: z.coerce.number().int().min(50).default(2000),
  CAPTURE_BASE_URL: url(['http:', 'https:']).optional(),
  CAPTURE_PAGE_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  CAPTURE_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  CAPTURE_RECYCLE_AFTER: z.coerce.number().int().min(1).default(200),
  CAPTURE_BACKFILL_SECONDS: z.coerce.number().min(0).default(300),
  CHART_CANDLE_CACHE_MS: z.coerce.number().int().min(0).default(500),
  CHART_FIXTURES_DIR: z.string().optional(),
  BOTS_PER_AUTHOR: z.coerce.number().int().min(0).max(1000).default(5),
  BOT_INTERVAL_SECONDS: z.coerce.number().min(0.05).max(86_400).default(30),
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
  MONITOR_EXCHANGE: z.string().toLowerCase().default('binance'),
  MONITOR_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
  MONITOR_SYNC_MS: z.coerce.number().int().min(50).default(5000),
  MONITOR_CLOSE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_FROM: z.string().default('Signal Marketplace <notifications@localhost>'),
  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF').optional(),
  TELEGRAM_API_ROOT: url(['http:', 'https:']).default('https://api.telegram.org'),
  NOTIFY_ALLOW_PRIVATE_TARGETS: bool.default(false),
  NOTIFY_POLL_MS: z.coerce.number().int().min(20).default(1000),
  NOTIFY_LEASE_MS: z.coerce.number().int().min(500).default(60_000),
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(10).default(5000),
  NOTIFY_RETRY_MAX_MS: z.coerce.number().int().min(10).default(3_600_000),
  NOTIFY_MAX_AGE_HOURS: z.coerce.number().positive().default(24),
  NOTIFY_RESCAN_SECONDS: z.coerce.number().int().min(1).default(30),
  NOTIFY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  NOTIFY_TELEGRAM_PER_SECOND: z.coerce.number().positive().max(30).default(25),
  NOTIFY_TELEGRAM_CHAT_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  NOTIFY_DIGEST_MINUTES: z.coerce.number().int().min(1).default(60),
  NOTIFY_ALERT_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  SITE_URL: url(['http:', 'https:']).optional(),
});

export type Role = 'api' | 'executor' | 'capturer' | 'store' | 'monitor' | 'notifier';
const ROLE_NAMES: Role[] = ['api', 'executor', 'capturer', 'store', 'monitor', 'notifier'];

export interface Config {
  readonly env: string;
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly dbPoolMax: number;
  readonly redisUrl?: string;
  /** Prefix of every Redis key and channel (lets several deployments or test runs share one Redis). */
  readonly redisPrefix: string;
  readonly jwtSecret: string;
  readonly jwtExpiresIn: string;
  readonly keyEncryptionKey: Buffer;
  readonly previousEncryptionKeys: Buffer[];
  readonly tradingMode: 'paper' | 'live';
  readonly chromiumPath: string;
  readonly logLevel: string;
  readonly dedupWindowMs: number;
  readonly autoCreateStrategies: boolean;
  /** Authenticated webhook posts per strategy per minute. */
  readonly webhookRateLimitPerMinute: number;
  /** Webhook posts with a wrong secret per client IP per minute (their own bucket). */
  readonly webhookBadSecretRateLimitPerMinute: number;
  /** A signal more than this many percent from the reference price is refused (409 PRICE_OUT_OF_BAND). */
  readonly priceBandPercent: number;
  /** A reference price older than this (ms) is not used: the signal is accepted unverified. */
  readonly priceMaxAgeMs: number;
  readonly loginRateLimitPerMinute: number;
  /** Failed register/login attempts per client IP per minute, whatever the email. */
  readonly loginIpRateLimitPerMinute: number;
  /** Log lines waiting for a slow stdout reader, in bytes; beyond it lines are dropped and counted. */
  readonly logBufferBytes: number;
  readonly bodyLimit: string;
  /** WebSocket distributor (/ws/signals). */
  readonly ws: {
    /** Server ping period; a peer that has not answered the previous ping is terminated. */
    readonly pingIntervalMs: number;
    /** Per-socket send buffer bound (bytes); beyond it the socket is closed with 1013. */
    readonly maxBufferedBytes: number;
    /** Largest client frame accepted; bigger frames close the socket with 1009. */
    readonly maxMessageBytes: number;
    /** How often each process checks PostgreSQL for signals its bus missed. */
    readonly catchupIntervalMs: number;
    /** How often each process reloads its connected users' subscriptions (a lost subscription.changed heals by then). */
    readonly routesResyncMs: number;
    /** Sockets one user may hold (across processes when Redis is shared); the next is closed with 1008. */
    readonly maxSocketsPerUser: number;
    /** Lifetime of a single-use upgrade ticket from POST /api/ws-ticket (ms). */
    readonly ticketTtlMs: number;
    /** Tickets one user may request per minute. */
    readonly ticketsPerMinute: number;
  };
  /** CIDR ranges allowed to read /metrics and /health/details (the operator's network). */
  readonly operatorNetworks: readonly string[];
  /**
   * This process's own /health + /metrics listener (port 0: none): METRICS_PORT plus the PM2 instance number, so
   * each cluster worker is scraped on its own port; `worker` labels every series when PM2 runs the process.
   */
  readonly metricsServer: { readonly port: number; readonly host: string; readonly worker?: string };
  readonly roles: ReadonlySet<Role>;
  /** express 'trust proxy': true/false, a hop count, or addresses/subnets/names (loopback, linklocal, uniquelocal). */
  readonly trustProxy: string | boolean | number;
  /** Lower-case exchange id → origin that replaces every ccxt API origin of that exchange. */
  readonly exchangeUrls: Readonly<Record<string, string>>;
  /** Executor: jobs in flight per exchange per process. */
  readonly executorConcurrency: number;
  /** Executor: claim lease (ms), renewed while working; must exceed exchangeRecvWindowMs + 2 s. */
  readonly executorLeaseMs: number;
  readonly executorMaxAttempts: number;
  readonly executorPollMs: number;
  /** JSON store: how often its follower polls the signal log besides the bus wake-ups (the safety net for lost messages). */
  readonly storePollMs: number;
  readonly executorRetryBaseMs: number;
  /**
   * Where a symbol lists no market stop (Binance BTCUSDT: STOP_LOSS_LIMIT only), a protective stop is a
   * stop-limit whose limit lies this many percent below its trigger (EXECUTOR_STOP_LIMIT_OFFSET_PERCENT, 0.5).
   */
  readonly executorStopLimitOffsetPercent: number;
  /**
   * Futures reconciliation period (RECONCILE_INTERVAL_MS, 15 s): positions, stops and take-profits the exchange
   * closed by itself (or a manual close in the account) are noticed and recorded within one period.
   */
  readonly reconcileIntervalMs: number;
  /** ccxt request timeout (ms). */
  readonly exchangeTimeoutMs: number;
  /** Binance recvWindow (ms): a signed order arriving later than this is refused by the exchange. */
  readonly exchangeRecvWindowMs: number;
  /**
   * One request budget per venue for every exchange call (orders, test-keys, charts, tickers), in ccxt cost
   * units per minute (Binance: 1 unit = 5 request weight). perVenue: EXCHANGE_BUDGET_PER_MINUTE_<ID>.
   */
  readonly exchangeBudget: { readonly percent: number; readonly perVenue: Readonly<Record<string, number>>; readonly otherPercent: number; readonly maxWaitMs: number };
  /** POST /api/subscriptions/:id/test-keys per user per minute. */
  readonly testKeysRateLimitPerMinute: number;
  /** Paper mode: simulated free quote balance for percent sizing. */
  readonly paperBalance: number;
  /** Chart capture (src/capture, docs/capture.md). */
  readonly capture: {
    /** JSON file listing the capture targets; re-read when it changes. */
    readonly targetsFile: string;
    readonly targetsReloadMs: number;
    /** Origin of our chart pages for the capturer; default: this process's server, else http://127.0.0.1:PORT. */
    readonly baseUrl?: string;
    readonly pageTimeoutMs: number;
    /** Pages captured at the same time by the one browser. */
    readonly concurrency: number;
    /** Restart Chromium after this many captures (bounds its memory growth). */
    readonly recycleAfter: number;
    /** On start, markers confirmed more than this long before the capturer started are history (skipped). */
    readonly backfillSeconds: number;
    readonly candleCacheMs: number;
    /** Candle fixture files (<name>.json) for offline chart pages. */
    readonly fixturesDir: string;
    /** ccxt ids chart pages may read candles from: CHART_EXCHANGES + MONITOR_EXCHANGE + every EXCHANGE_URL_<ID>. */
    readonly chartExchanges: readonly string[];
    /** Strategy bots (TradingBot rows) one author may hold. */
    readonly botsPerAuthor: number;
    /** How often the capturer visits each pair of an enabled bot (seconds). */
    readonly botIntervalSeconds: number;
  };
  /**
   * Public origin (and optional path prefix) of the site, e.g. https://signals.example.com, for the full webhook
   * URL shown to authors. Unset: SITE_URL, else the request's own origin (behind a proxy: X-Forwarded-* as TRUST_PROXY allows).
   */
  readonly publicBaseUrl?: string;
  /** Trade monitor (src/monitor): closes open trades at their stop loss / take profit. */
  /** Outgoing notifications (src/notifications): channels, delivery loop, SSRF guard. */
  readonly notify: {
    readonly smtpUrl?: string;
    readonly smtpFrom: string;
    readonly telegramBotToken?: string;
    readonly telegramApiRoot: string;
    /** Webhook targets may be private/loopback addresses (tests only; production refuses them unless set). */
    readonly allowPrivateTargets: boolean;
    readonly pollMs: number;
    readonly leaseMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    /** A message still failing after this long is marked dead. */
    readonly maxAgeMs: number;
    /** How far behind its cursor the deriver re-reads finished executions (rows committed late). */
    readonly rescanMs: number;
    readonly webhookTimeoutMs: number;
    readonly telegramPerSecond: number;
    readonly telegramChatIntervalMs: number;
    readonly digestMs: number;
    readonly alertIntervalMs: number;
    /** Public origin of the site, for links in messages. */
    readonly siteUrl?: string;
  };
  readonly monitor: {
    /** ccxt id of the exchange whose prices judge every strategy's trades. */
    readonly exchange: string;
    /** Ticker poll period (ms): one batched request for every watched pair. */
    readonly intervalMs: number;
    /** Safety-net sync of the open-trade book from PostgreSQL (ms); the bus wakes it sooner. */
    readonly syncMs: number;
    /** CLOSE signals sent at the same time. */
    readonly closeConcurrency: number;
  };
}

export class ConfigError extends Error {}

/** Validates `env` and returns the frozen Config; throws ConfigError naming the first bad key. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '?');
    const msg = issue.code === 'invalid_type' && clean[key] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`${key} ${msg}`);
  }
  const c = parsed.data;
  const roles = c.ROLES.split(',').map((r) => r.trim()).filter(Boolean);
  const badRole = roles.find((r) => !ROLE_NAMES.includes(r as Role));
  if (badRole) throw new ConfigError(`ROLES has unknown role "${badRole}" (known: ${ROLE_NAMES.join(', ')})`);
  const previous = c.KEY_ENCRYPTION_KEYS_PREVIOUS.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of previous) if (Buffer.from(p, 'base64').length !== 32) throw new ConfigError('KEY_ENCRYPTION_KEYS_PREVIOUS entries must be 32 bytes, base64');
  if (c.EXECUTOR_LEASE_MS < c.EXCHANGE_RECV_WINDOW_MS + 2000) throw new ConfigError('EXECUTOR_LEASE_MS must exceed EXCHANGE_RECV_WINDOW_MS by at least 2000');
  const operatorNetworks = listOf(c.OPERATOR_NETWORKS);
  const badNet = operatorNetworks.find((n) => !isCidr(n));
  if (badNet) throw new ConfigError(`OPERATOR_NETWORKS has "${badNet}", not a CIDR range like 10.0.0.0/8`);
  const exchangeUrls = exchangeUrlsFrom(clean);
  const chartExchanges = [...new Set([...listOf(c.CHART_EXCHANGES.toLowerCase()), c.MONITOR_EXCHANGE, ...Object.keys(exchangeUrls)])];
  const badEx = chartExchanges.find((e) => !/^[a-z0-9]+$/.test(e));
  if (badEx) throw new ConfigError(`CHART_EXCHANGES has "${badEx}", not a ccxt exchange id`);
  return Object.freeze({
    env: c.NODE_ENV,
    production: c.NODE_ENV === 'production',
    port: c.PORT,
    host: c.HOST,
    dataDir: path.resolve(c.DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    dbPoolMax: c.DB_POOL_MAX,
    redisUrl: c.REDIS_URL,
    redisPrefix: c.REDIS_PREFIX,
    jwtSecret: c.JWT_SECRET,
    jwtExpiresIn: c.JWT_EXPIRES_IN,
    keyEncryptionKey: Buffer.from(c.KEY_ENCRYPTION_KEY, 'base64'),
    previousEncryptionKeys: previous.map((p) => Buffer.from(p, 'base64')),
    tradingMode: c.TRADING_MODE,
    chromiumPath: c.CHROMIUM_PATH,
    logLevel: c.LOG_LEVEL,
    dedupWindowMs: c.DEDUP_WINDOW_MINUTES * 60_000,
    autoCreateStrategies: c.AUTO_CREATE_STRATEGIES,
    webhookRateLimitPerMinute: c.WEBHOOK_RATE_LIMIT_PER_MINUTE,
    webhookBadSecretRateLimitPerMinute: c.WEBHOOK_BAD_SECRET_RATE_LIMIT_PER_MINUTE,
    priceBandPercent: c.PRICE_BAND_PERCENT,
    priceMaxAgeMs: c.PRICE_MAX_AGE_MS,
    loginRateLimitPerMinute: c.LOGIN_RATE_LIMIT_PER_MINUTE,
    loginIpRateLimitPerMinute: c.LOGIN_IP_RATE_LIMIT_PER_MINUTE,
    logBufferBytes: c.LOG_BUFFER_BYTES,
    bodyLimit: c.BODY_LIMIT,
    ws: Object.freeze({
      pingIntervalMs: c.WS_PING_INTERVAL_MS,
      maxBufferedBytes: c.WS_MAX_BUFFERED_BYTES,
      maxMessageBytes: c.WS_MAX_MESSAGE_BYTES,
      catchupIntervalMs: c.WS_CATCHUP_INTERVAL_MS,
      routesResyncMs: c.WS_ROUTES_RESYNC_MS,
      maxSocketsPerUser: c.WS_MAX_SOCKETS_PER_USER,
      ticketTtlMs: Math.round(c.WS_TICKET_TTL_SECONDS * 1000),
      ticketsPerMinute: c.WS_TICKETS_PER_MINUTE,
    }),
    operatorNetworks: Object.freeze(operatorNetworks),
    metricsServer: Object.freeze({
      port: c.METRICS_PORT > 0 ? c.METRICS_PORT + (c.NODE_APP_INSTANCE ?? 0) : 0, host: c.METRICS_HOST,
      worker: c.NODE_APP_INSTANCE === undefined ? undefined : String(c.NODE_APP_INSTANCE),
    }),
    roles: new Set(roles as Role[]),
    trustProxy: trustProxyValue(c.TRUST_PROXY),
    exchangeUrls: Object.freeze(exchangeUrls),
    executorConcurrency: c.EXECUTOR_CONCURRENCY,
    executorLeaseMs: c.EXECUTOR_LEASE_MS,
    executorMaxAttempts: c.EXECUTOR_MAX_ATTEMPTS,
    executorPollMs: c.EXECUTOR_POLL_MS,
    storePollMs: c.STORE_POLL_MS,
    executorRetryBaseMs: c.EXECUTOR_RETRY_BASE_MS,
    executorStopLimitOffsetPercent: c.EXECUTOR_STOP_LIMIT_OFFSET_PERCENT,
    reconcileIntervalMs: c.RECONCILE_INTERVAL_MS,
    exchangeTimeoutMs: c.EXCHANGE_TIMEOUT_MS,
    exchangeRecvWindowMs: c.EXCHANGE_RECV_WINDOW_MS,
    exchangeBudget: Object.freeze({
      percent: c.EXCHANGE_BUDGET_PERCENT, perVenue: Object.freeze(budgetsFrom(clean)),
      otherPercent: c.EXCHANGE_BUDGET_OTHER_PERCENT, maxWaitMs: c.EXCHANGE_BUDGET_MAX_WAIT_MS,
    }),
    testKeysRateLimitPerMinute: c.TEST_KEYS_RATE_LIMIT_PER_MINUTE,
    paperBalance: c.PAPER_BALANCE,
    capture: Object.freeze({
      targetsFile: path.resolve(c.CAPTURE_TARGETS_FILE ?? path.join(c.DATA_DIR, 'capture-targets.json')),
      targetsReloadMs: c.CAPTURE_TARGETS_RELOAD_MS,
      baseUrl: c.CAPTURE_BASE_URL ? new URL(c.CAPTURE_BASE_URL).origin : undefined,
      pageTimeoutMs: c.CAPTURE_PAGE_TIMEOUT_MS,
      concurrency: c.CAPTURE_CONCURRENCY,
      recycleAfter: c.CAPTURE_RECYCLE_AFTER,
      backfillSeconds: c.CAPTURE_BACKFILL_SECONDS,
      candleCacheMs: c.CHART_CANDLE_CACHE_MS,
      fixturesDir: path.resolve(c.CHART_FIXTURES_DIR ?? path.join(c.DATA_DIR, 'fixtures')),
      chartExchanges: Object.freeze(chartExchanges),
      botsPerAuthor: c.BOTS_PER_AUTHOR,
      botIntervalSeconds: c.BOT_INTERVAL_SECONDS,
    }),
    publicBaseUrl: (c.PUBLIC_BASE_URL ?? c.SITE_URL)?.replace(/\/+$/, ''),
    notify: Object.freeze({
      smtpUrl: c.SMTP_URL, smtpFrom: c.SMTP_FROM, telegramBotToken: c.TELEGRAM_BOT_TOKEN, telegramApiRoot: c.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      allowPrivateTargets: c.NOTIFY_ALLOW_PRIVATE_TARGETS, pollMs: c.NOTIFY_POLL_MS, leaseMs: c.NOTIFY_LEASE_MS,
      retryBaseMs: c.NOTIFY_RETRY_BASE_MS, retryMaxMs: c.NOTIFY_RETRY_MAX_MS, maxAgeMs: Math.round(c.NOTIFY_MAX_AGE_HOURS * 3_600_000),
      rescanMs: c.NOTIFY_RESCAN_SECONDS * 1000, webhookTimeoutMs: c.NOTIFY_WEBHOOK_TIMEOUT_MS, telegramPerSecond: c.NOTIFY_TELEGRAM_PER_SECOND,
      telegramChatIntervalMs: c.NOTIFY_TELEGRAM_CHAT_INTERVAL_MS, digestMs: c.NOTIFY_DIGEST_MINUTES * 60_000, alertIntervalMs: c.NOTIFY_ALERT_INTERVAL_MS,
      siteUrl: c.SITE_URL ? new URL(c.SITE_URL).origin : undefined,
    }),
    monitor: Object.freeze({
      exchange: c.MONITOR_EXCHANGE,
      intervalMs: c.MONITOR_INTERVAL_MS,
      syncMs: c.MONITOR_SYNC_MS,
      closeConcurrency: c.MONITOR_CLOSE_CONCURRENCY,
    }),
  });
}

const listOf = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** "a.b.c.d/n" or an IPv6 "x::y/n" (the address family is checked where the list is used, by net.BlockList). */
function isCidr(v: string): boolean {
  const [addr, bits, extra] = v.split('/');
  if (extra !== undefined || !addr || !bits || !/^\d{1,3}$/.test(bits)) return false;
  const v4 = isIPv4(addr);
  return (v4 || isIPv6(addr)) && Number(bits) <= (v4 ? 32 : 128);
}

/** TRUST_PROXY as express takes it: "true"/"false" as booleans and a hop count as a number (express reads the strings as addresses). */
function trustProxyValue(v: string): string | boolean | number {
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === 'false') return t === 'true';
  return /^\d+$/.test(t) ? Number(t) : v;
}

function exchangeUrlsFrom(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^EXCHANGE_URL_([A-Z0-9_]+)$/.exec(k);
    if (!m || !v) continue;
    try { out[m[1]!.toLowerCase()] = new URL(v).origin; } catch { throw new ConfigError(`${k} must be a URL`); }
  }
  return out;
}

/** EXCHANGE_BUDGET_PER_MINUTE_<ID>=<units> → { <id>: units }. */
function budgetsFrom(env: Record<string, string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^EXCHANGE_BUDGET_PER_MINUTE_([A-Z0-9_]+)$/.exec(k);
    if (!m || !v) continue;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${k} must be a positive number (ccxt cost units per minute)`);
    out[m[1]!.toLowerCase()] = n;
  }
  return out;
}

/** The environment a child process (the Prisma CLI) starts with: this process's, plus `extra`. (process.env is read only in src/config.) */
export function childProcessEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/**
 * Outside production, fills missing JWT_SECRET / KEY_ENCRYPTION_KEY from DATA_DIR/secrets.json,
 * generating that file once (mode 0600). Returns the env to pass to loadConfig and what it generated.
 */
export function withDevSecrets(env: Record<string, string | undefined>): { env: Record<string, string | undefined>; generated: string[]; file?: string } {
  if (env.NODE_ENV === 'production' || (env.JWT_SECRET && env.KEY_ENCRYPTION_KEY)) return { env, generated: [] };
  const dir = path.resolve(env.DATA_DIR || './data');
  const file = path.join(dir, 'secrets.json');
  let stored: Record<string, string> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const generated: string[] = [];
  if (!stored.JWT_SECRET) { stored.JWT_SECRET = randomBytes(48).toString('base64'); generated.push('JWT_SECRET'); }
  if (!stored.KEY_ENCRYPTION_KEY) { stored.KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64'); generated.push('KEY_ENCRYPTION_KEY'); }
  if (generated.length) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return {
    env: { ...env, JWT_SECRET: env.JWT_SECRET || stored.JWT_SECRET, KEY_ENCRYPTION_KEY: env.KEY_ENCRYPTION_KEY || stored.KEY_ENCRYPTION_KEY },
    generated,
    file,
  };
}
