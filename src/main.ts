/**
 * Process entry point: config (one clear line and exit 1 when wrong) → buildApp → signal handlers.
 * SIGINT/SIGTERM stop taking work and shut down in reverse order within a bound.
 */
import { ConfigError, loadConfig, withDevSecrets } from './config/index.js';
import { createLogger } from './lib/logger.js';
import { buildApp } from './app.js';

async function main() {
  let config;
  try {
    const { env, generated, file } = withDevSecrets(process.env);
    config = loadConfig(env);
    if (generated.length) createLogger(config.logLevel).warn({ generated, file }, 'generated development secrets (set them in the environment for production)');
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`config error: ${msg}\n`);
    process.exit(1);
  }
  const log = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => { log.fatal({ err }, 'uncaught exception: exiting'); process.exit(1); });

  let app;
  try {
    app = await buildApp(config, { log });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => { log.error('shutdown took too long: exiting'); process.exit(1); }, 15_000);
    force.unref();
    app.stop().then(() => { log.info('stopped'); process.exit(0); }, (err) => { log.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
