/** Logger: pino JSON to stdout; secrets are redacted wherever they appear in logged objects. */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers["x-webhook-secret"]',
  'apiKey', 'apiSecret', 'secret', 'password', 'token', 'webhookSecret',
  '*.apiKey', '*.apiSecret', '*.secret', '*.password', '*.token', '*.webhookSecret',
];

/** Creates the process logger. `level` as pino levels; 'silent' for tests. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base }, redact: { paths: REDACT, censor: '[redacted]' } });
}
