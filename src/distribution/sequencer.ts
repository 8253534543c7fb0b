/**
 * SignalSequencer: turns this process's at-most-once, possibly reordered bus deliveries of
 * `signal.accepted` into a gapless stream in seq order. Vocabulary: `last` is the highest seq
 * forwarded; a signal above last+1 waits in `pending` while the missing seqs are read from
 * PostgreSQL (seq is gapless in commit order, so once n is committed every seq below n is too).
 * A periodic check of the seq counter catches a lost final message. Duplicates (≤ last) are dropped.
 */
import type { PrismaClient } from '@prisma/client';
import { TOPICS, type Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';
import { toSignal, type Signal, type SignalAcceptedEvent, type SignalReader } from '../signals/index.js';

export interface SequencerDeps {
  prisma: PrismaClient;
  reader: SignalReader;
  bus: Bus;
  log: Logger;
  /** Receives every signal exactly once, in seq order. Must not throw (errors are logged). */
  forward: (signal: Signal) => void;
  /** How often the seq counter is checked for signals the bus never delivered (ms). */
  catchupIntervalMs: number;
  /** How long a reordered signal waits for the missing ones before they are read from the database (ms). */
  graceMs?: number;
}

const FETCH_BATCH = 500;

export class SignalSequencer {
  private last = 0;
  private ready = false;
  private readonly pending = new Map<number, Signal>();
  private filling = false;
  private fillTimer?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(private readonly deps: SequencerDeps) {}

  /** Highest seq forwarded so far: every signal up to it has been handed to `forward`. */
  get lastSeq(): number { return this.last; }

  async start(): Promise<void> {
    // Subscribe first, then read the counter: nothing published in between is lost.
    this.unsubscribe = this.deps.bus.subscribe(TOPICS.signalAccepted, (m) => this.offer((m as SignalAcceptedEvent).signal));
    this.last = await this.deps.reader.lastSeq();
    this.ready = true;
    for (const seq of [...this.pending.keys()]) if (seq <= this.last) this.pending.delete(seq);
    this.drain();
    this.poll = setInterval(() => { void this.checkCounter(); }, this.deps.catchupIntervalMs);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.poll);
    clearTimeout(this.fillTimer);
  }

  /** A signal from the bus (or the database). */
  offer(signal: Signal | undefined): void {
    if (!signal || typeof signal.seq !== 'number' || this.stopped) return;
    if (this.ready && signal.seq <= this.last) return;
    this.pending.set(signal.seq, signal);
    if (!this.ready) return;
    this.drain();
    if (this.pending.size) this.scheduleFill(this.deps.graceMs ?? 5);
  }

  private drain(): void {
    for (let next = this.pending.get(this.last + 1); next; next = this.pending.get(this.last + 1)) {
      this.pending.delete(next.seq);
      this.last = next.seq;
      try { this.deps.forward(next); } catch (err) { this.deps.log.error({ err, seq: next.seq }, 'distributor forward failed'); }
    }
  }

  private scheduleFill(delayMs: number): void {
    if (this.fillTimer || this.filling || this.stopped) return;
    this.fillTimer = setTimeout(() => { this.fillTimer = undefined; void this.fill(); }, delayMs);
  }

  private async checkCounter(): Promise<void> {
    if (this.filling || this.stopped) return;
    try {
      if ((await this.deps.reader.lastSeq()) > this.last) await this.fill();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'distributor: seq counter check failed');
    }
  }

  /** Reads committed signals above `last` from PostgreSQL until the pending ones connect. */
  private async fill(): Promise<void> {
    if (this.filling || this.stopped) return;
    this.filling = true;
    try {
      for (;;) {
        const from = this.last;
        const rows = await this.deps.prisma.signal.findMany({ where: { seq: { gt: BigInt(from) } }, orderBy: { seq: 'asc' }, take: FETCH_BATCH });
        for (const row of rows) if (Number(row.seq) > this.last) this.pending.set(Number(row.seq), toSignal(row));
        this.drain();
        if (rows.length < FETCH_BATCH || this.last === from || this.stopped) break;
      }
      if (this.last > 0 && this.pending.size) this.deps.log.debug({ last: this.last, pending: this.pending.size }, 'distributor: waiting for uncommitted seqs');
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, last: this.last }, 'distributor: gap fill failed; will retry');
    } finally {
      this.filling = false;
    }
    if (this.pending.size) this.scheduleFill(250);
  }
}
