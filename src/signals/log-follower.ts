/**
 * SignalLogFollower: the one way a consumer follows the signal log (the WebSocket sequencer, the
 * executor's intent writer, the trade monitor, the JSON store). It hands `handle` every signal after
 * its cursor, in seq order, in batches, each seq once.
 *
 * Wake-ups: `signal.accepted` on the bus (every process sharing it; the message carries the signal and
 * the trade it opened or closed, so a message that continues the cursor is delivered without reading
 * PostgreSQL), the bus reconnecting (what was published meanwhile is lost), and a slow poll, the safety net
 * for lost messages (the bus is at-most-once). A message above cursor+1 waits `graceMs` for the missing
 * ones and then the range is read from PostgreSQL: seq commits in order, so once n is announced every seq
 * below n is readable. A message without the trade a consumer needs only wakes a read.
 *
 * Failures: a failed read or a throwing handler is logged once (and once more when it works again) and
 * retried with backoff; the batch is handed over again (the only case a seq is seen twice, so handlers are
 * idempotent by seq). start() and stop() are idempotent; stop() waits for the handler in progress.
 */
import { TOPICS, type Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';
import type { SignalLog } from './signal-log.js';
import type { SignalEffect } from './types.js';

export interface FollowerOptions {
  /** Who follows (logs). */
  name: string;
  signalLog: SignalLog;
  /** Absent: no wake-ups but the poll, offer() and sync(). */
  bus?: Bus;
  log: Logger;
  /** The cursor to start from: every seq up to it counts as handled. Called once, after subscribing. */
  from: () => Promise<number> | number;
  /** Receives batches in seq order. May be async: the next batch waits for it. Throwing retries the batch. */
  handle: (batch: SignalEffect[]) => void | Promise<void>;
  /** 'signal': the signal is enough; 'effect' (default): an OPEN/CLOSE comes with its trade. */
  needs?: 'signal' | 'effect';
  /** Safety-net poll period (ms); 0: none. */
  pollMs: number;
  /** How long a signal above cursor+1 waits for the missing ones before they are read (ms). */
  graceMs?: number;
  /** Signals per read and per batch. */
  batchSize?: number;
}

const MAX_BACKOFF_MS = 5000;

export class SignalLogFollower {
  private last = 0;
  private ready = false;
  private readonly pending = new Map<number, SignalEffect>();
  /** PostgreSQL may hold signals beyond the cursor that no message brought. */
  private readWanted = false;
  private running: Promise<void> | null = null;
  private again = false;
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private poll?: NodeJS.Timeout;
  private failures = 0;
  /** Reads in a row that found announced seqs missing (backs the re-reads off). */
  private stalls = 0;
  private holeAt = -1;
  private unsubscribe: (() => void)[] = [];
  private started?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: FollowerOptions) {}

  /** The highest seq handed to `handle` (and, with a throwing handler, accepted by it). */
  get cursor(): number { return this.last; }

  private get batchSize() { return this.opts.batchSize ?? 500; }

  /** Subscribes, takes the start cursor, catches up with what PostgreSQL holds; resolves after that first catch-up. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const { bus } = this.opts;
      if (bus) {
        // Subscribe before reading the cursor: nothing published in between is lost.
        this.unsubscribe.push(bus.subscribe(TOPICS.signalAccepted, (m) => this.offer(m as SignalEffect)));
        const off = bus.onReconnect?.(() => this.wake());
        if (off) this.unsubscribe.push(off);
      }
      this.last = await this.opts.from();
      this.ready = true;
      for (const seq of [...this.pending.keys()]) if (seq <= this.last) this.pending.delete(seq);
      if (this.opts.pollMs > 0) {
        this.poll = setInterval(() => this.wake(), this.opts.pollMs);
        this.poll.unref();
      }
      await this.sync();
    })();
    return this.started;
  }

  /** Stops following and waits for the batch in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    clearInterval(this.poll);
    clearTimeout(this.timer);
    await this.running;
  }

  /** A signal (or effect) from the bus, or one this process just accepted. Ignores malformed and old ones. */
  offer(effect: SignalEffect | undefined): void {
    const seq = effect?.signal?.seq;
    if (this.stopped || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return;
    if (this.ready && seq <= this.last) return;
    const s = effect!.signal;
    const complete = this.opts.needs === 'signal' || (s.action === 'OPEN' ? !!effect!.opened : s.action === 'CLOSE' ? !!effect!.closed : false);
    if (!complete || this.pending.size >= this.batchSize * 20) {
      // Only a wake-up: the entry is read from PostgreSQL (bounded memory while a handler keeps failing).
      this.readWanted = true;
    } else {
      this.pending.set(seq, this.opts.needs === 'signal' ? { signal: s } : { signal: s, opened: effect!.opened, closed: effect!.closed });
    }
    if (this.ready) this.kick();
  }

  /** Reads PostgreSQL now and delivers everything committed; resolves when this process is idle again. */
  async sync(): Promise<void> {
    if (this.stopped) return;
    this.readWanted = true;
    this.kick();
    while (this.running) await this.running;
  }

  private wake(): void {
    if (this.stopped || !this.ready) return;
    this.readWanted = true;
    this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.running = this.loop().finally(() => { this.running = null; });
  }

  /** Delivers what connects to the cursor; reads PostgreSQL when asked to or when a gap outlives its grace. */
  private async loop(): Promise<void> {
    do {
      this.again = false;
      for (;;) {
        if (this.stopped) return;
        const batch = this.contiguous();
        if (batch.length) {
          if (!(await this.deliver(batch))) return;
          continue;
        }
        const gap = this.pending.size > 0;
        if (!this.readWanted && !gap) break;
        if (!this.readWanted) { this.retryIn(this.opts.graceMs ?? 5); break; }
        const progressed = await this.read();
        if (progressed === null) return;
        if (!progressed) {
          // Announced seqs PostgreSQL does not show (yet): look again shortly, then less and less often.
          if (this.pending.size) this.retryIn(Math.min(250 * 2 ** Math.min(this.stalls++, 4), MAX_BACKOFF_MS));
          break;
        }
      }
    } while (this.again && !this.stopped);
  }

  /** Pending entries from cursor+1 on, without a hole, at most one batch. */
  private contiguous(): SignalEffect[] {
    const out: SignalEffect[] = [];
    for (let e = this.pending.get(this.last + 1); e && out.length < this.batchSize; e = this.pending.get(this.last + 1 + out.length)) out.push(e);
    return out;
  }

  /** Hands one batch over; false (after scheduling a retry) when the handler threw. */
  private async deliver(batch: SignalEffect[]): Promise<boolean> {
    try {
      await this.opts.handle(batch);
    } catch (err) {
      this.failed(err, 'handler failed', batch[0]!.signal.seq);
      return false;
    }
    for (const e of batch) this.pending.delete(e.signal.seq);
    this.last = batch.at(-1)!.signal.seq;
    this.stalls = 0;
    this.recovered();
    return true;
  }

  /** One read after the cursor into `pending`. True: it brought the next seq; false: nothing new; null: failed. */
  private async read(): Promise<boolean | null> {
    const from = this.last;
    let rows: SignalEffect[];
    try {
      rows = await this.opts.signalLog.after(from, this.batchSize, { trades: this.opts.needs !== 'signal' });
    } catch (err) {
      this.failed(err, 'reading the signal log failed', from + 1);
      return null;
    }
    this.recovered();
    if (rows.length < this.batchSize) this.readWanted = false;
    for (const r of rows) if (r.signal.seq > this.last) this.pending.set(r.signal.seq, r);
    if (rows.length && rows[0]!.signal.seq !== from + 1 && this.last === from) {
      if (this.holeAt !== from) this.opts.log.warn({ follower: this.opts.name, cursor: from, next: rows[0]!.signal.seq }, 'signal log has a hole after the cursor; waiting for it');
      this.holeAt = from;
      this.readWanted = false;
      return false;
    }
    return this.pending.has(this.last + 1);
  }

  private failed(err: unknown, what: string, seq: number): void {
    if (this.failures++ === 0) this.opts.log.warn({ err: (err as Error)?.message ?? String(err), follower: this.opts.name, seq }, `signal log follower: ${what}; retrying with backoff`);
    this.readWanted = true;
    this.retryIn(Math.min(100 * 2 ** Math.min(this.failures - 1, 10), Math.max(MAX_BACKOFF_MS, this.opts.pollMs)));
  }

  private recovered(): void {
    if (!this.failures) return;
    this.opts.log.info({ follower: this.opts.name, failures: this.failures, cursor: this.last }, 'signal log follower: working again');
    this.failures = 0;
  }

  /** One timer: the earliest retry asked for wins. */
  private retryIn(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      // A gap that outlived its grace (or a failure's backoff) is read from PostgreSQL.
      if (this.pending.size) this.readWanted = true;
      this.kick();
    }, ms);
    this.timer.unref();
  }
}

/** Creates a follower and starts it (resolves after its first catch-up). */
export async function followSignalLog(opts: FollowerOptions): Promise<SignalLogFollower> {
  const f = new SignalLogFollower(opts);
  await f.start();
  return f;
}
