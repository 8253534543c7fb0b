/**
 * Process entry point: config (one clear line and exit 1 when wrong) → buildApp → signal handlers.
 * SIGINT/SIGTERM stop taking work and shut down in reverse order within a bound; the last log lines get
 * a bounded wait, so a stdout reader that stalled or went away never holds the exit.
 */
import { ConfigError, loadConfig, withDevSecrets } from './config/index.js';
import { createLogger, flushLogs } from './lib/logger.js';
import { buildApp, type App } from './app.js';
import { DataDirInUseError } from './db/index.js';

/** Hard bound for a graceful stop; PM2's kill_timeout (ecosystem.config.js) is longer. */
const SHUTDOWN_BOUND_MS = 15_000;
/** How long an exit waits for pending log lines (a stalled or lost stdout reader never holds it longer). */
const LOG_FLUSH_BOUND_MS = 2_000;

/** Exits after the pending log lines are written or LOG_FLUSH_BOUND_MS, whichever is first. */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  void flushLogs(LOG_FLUSH_BOUND_MS).finally(() => process.exit(code));
}

async function main() {
  // DATA_DIR holds password hashes, key envelopes and secrets: what this process creates there is private (0600/0700).
  process.umask(0o077);
  let config;
  try {
    const { env, generated, file } = withDevSecrets(process.env);
    config = loadConfig(env);
    if (generated.length) createLogger(config.logLevel, {}, { bufferBytes: config.logBufferBytes }).warn({ generated, file }, 'generated development secrets (set them in the environment for production)');
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`config error: ${msg}\n`);
    process.exit(1);
  }
  const log = createLogger(config.logLevel, {}, { bufferBytes: config.logBufferBytes }).child({ roles: [...config.roles].join(',') });
  let building: Promise<App> | undefined;
  let exiting = false;
  /** Stops taking work, stops every part in reverse order, exits; a stop that hangs is cut at SHUTDOWN_BOUND_MS. */
  const shutdown = (reason: string, code: number) => {
    if (exiting) return log.warn({ reason }, 'already shutting down');
    exiting = true;
    const started = Date.now();
    log.info({ reason }, 'shutting down');
    const force = setTimeout(() => { log.error({ reason, boundMs: SHUTDOWN_BOUND_MS }, 'shutdown took too long: exiting'); process.exit(code || 1); }, SHUTDOWN_BOUND_MS);
    force.unref();
    // During start-up, wait for the half-built app so its parts are stopped, not abandoned.
    (building ? building.then((app) => app.stop(), () => {}) : Promise.resolve()).then(
      () => { log.info({ reason, ms: Date.now() - started }, 'stopped'); exitAfterFlush(code); },
      (err) => { log.error({ err, reason }, 'shutdown failed'); exitAfterFlush(1); },
    );
  };
  // A rejected promise nobody awaited is a bug in one code path, not a broken process: log it and carry on.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  // After an uncaught exception the process state is unknown: stop gracefully (bounded) and let PM2 restart it.
  process.on('uncaughtException', (err, origin) => { log.fatal({ err, origin }, 'uncaught exception: stopping'); shutdown('uncaughtException', 1); });
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));

  building = buildApp(config, { log });
  try {
    await building;
  } catch (err) {
    // The whole error (type, message, stack, cause) under `err`: the stack says which part failed.
    log.fatal({ err }, 'start-up failed');
    if (err instanceof DataDirInUseError) process.stderr.write(`start-up refused: ${err.message}\n`);
    exitAfterFlush(1);
  }
}

void main();
