/**
 * Logger: pino JSON to stdout; secrets are redacted wherever they appear in logged objects.
 *
 * Logging never blocks the event loop or shutdown. Lines go to one process-wide destination that hands
 * them to process.stdout, which writes to a pipe or socket asynchronously (the event loop waits for the
 * reader, no thread and no sleep does). While the reader is slower than the lines, up to
 * `bufferBytes` of them wait; beyond that a line is dropped and counted (log_lines_dropped_total), never
 * waited for. When the reader goes away (EPIPE) every later line is dropped and counted. `flushLogs`
 * waits for the pending lines with a time bound. pino's own destination is avoided on purpose: it
 * flushes synchronously at exit, sleeping in Atomics.wait and retrying a write to a pipe nobody reads,
 * forever.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const REDACT = [
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers["x-webhook-secret"]',
  'apiKey', 'apiSecret', 'secret', 'password', 'token', 'webhookSecret',
  '*.apiKey', '*.apiSecret', '*.secret', '*.password', '*.token', '*.webhookSecret',
];

/** Default bound on unwritten log text (LOG_BUFFER_BYTES). */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** The process's stdout as a bounded, non-blocking pino destination. */
class StdoutDestination implements DestinationStream {
  bufferBytes = DEFAULT_LOG_BUFFER_BYTES;
  dropped = 0;
  /** The reader went away (EPIPE) or stdout failed: nothing more can be written. */
  broken = false;
  private listening = false;

  write(line: string): void {
    const out = process.stdout;
    if (!this.listening) {
      this.listening = true;
      // Without a listener an EPIPE on stdout would be an uncaught exception: losing the log reader
      // must not stop the server.
      out.on('error', () => { this.broken = true; });
    }
    // writableLength counts what the stream holds unwritten (0 for files and terminals, written at once).
    if (this.broken || out.destroyed || out.writableLength + line.length > this.bufferBytes) {
      this.dropped++;
      return;
    }
    out.write(line);
  }

  /** Unwritten bytes held in memory. */
  pending(): number {
    return this.broken ? 0 : process.stdout.writableLength;
  }

  /** Resolves when the pending lines are written, the reader is gone, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<void> {
    const out = process.stdout;
    if (this.broken || out.destroyed || out.writableLength === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); out.off('drain', done); out.off('error', done); resolve(); };
      const timer = setTimeout(done, timeoutMs);
      out.once('drain', done);
      out.once('error', done);
    });
  }
}

const destination = new StdoutDestination();

/**
 * Creates a logger on the process's stdout destination. `level` as pino levels; 'silent' for tests.
 * `bufferBytes` (LOG_BUFFER_BYTES) sets the process-wide bound on unwritten lines.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}, opts: { bufferBytes?: number } = {}): Logger {
  if (opts.bufferBytes !== undefined) destination.bufferBytes = opts.bufferBytes;
  return pino({ level, base: { pid: process.pid, ...base }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** Log lines dropped so far because the stdout reader was too slow or gone. */
export function droppedLogLines(): number {
  return destination.dropped;
}

/** Log text waiting for the stdout reader, in bytes. */
export function pendingLogBytes(): number {
  return destination.pending();
}

/** Waits (at most `timeoutMs`) for pending log lines to be written; for a graceful exit. Never blocks. */
export function flushLogs(timeoutMs: number): Promise<void> {
  return destination.flush(timeoutMs);
}
