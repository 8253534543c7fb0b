/**
 * Logs a Redis connection's state changes instead of its every error: ioredis emits 'error' on each failed
 * reconnect (every 50 ms–2 s while Redis is down), so logging each one floods the log, and ignoring them
 * all hides an outage. Here: one warning when the connection goes down (with the first error), one info
 * line when it is back (how long, how many errors in between). A connection that flaps logs at most one
 * "down" line per `minIntervalMs`; the next one counts the downs it did not log.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';

export interface RedisStateOptions {
  /** Names the connection in the log lines (e.g. "app", "bus-pub"). */
  name: string;
  /** At most one "down" warning per this many ms (default 60 s). */
  minIntervalMs?: number;
  now?: () => number;
}

/**
 * Attaches 'error' and 'ready' listeners to `client` (which then never emits an unhandled 'error').
 * @returns detach: removes the listeners (after a deliberate quit, say); errors are then ignored.
 */
export function logRedisState(client: EventEmitter, log: Logger, opts: RedisStateOptions): () => void {
  const minIntervalMs = opts.minIntervalMs ?? 60_000;
  const now = opts.now ?? Date.now;
  let down = false;
  let downSince = 0;
  let errors = 0;
  let lastWarnAt = -Infinity;
  let unloggedDowns = 0;
  let loggedThisDown = false;
  let detached = false;

  const onError = (err: Error) => {
    if (detached) return;
    if (down) { errors++; return; }
    errors = 1;
    down = true;
    downSince = now();
    if (downSince - lastWarnAt < minIntervalMs) { unloggedDowns++; loggedThisDown = false; return; }
    lastWarnAt = downSince;
    loggedThisDown = true;
    log.warn({ redis: opts.name, err, ...(unloggedDowns ? { unloggedDowns } : {}) }, 'redis unreachable: retrying (logged again when it is back)');
    unloggedDowns = 0;
  };
  const onReady = () => {
    if (detached || !down) return;
    down = false;
    if (loggedThisDown) log.info({ redis: opts.name, downMs: now() - downSince, errors }, 'redis back');
  };
  client.on('error', onError);
  client.on('ready', onReady);
  return () => {
    if (detached) return;
    detached = true;
    client.off('ready', onReady);
    // Keep a no-op 'error' listener: an EventEmitter without one throws on 'error'.
    client.off('error', onError);
    client.on('error', () => {});
  };
}
