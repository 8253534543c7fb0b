/**
 * SignalSequencer: the live stream of this process's WebSocket fan-out, every signal once and in seq
 * order, from the moment the distributor starts (it does not replay history: RESUME reads PostgreSQL,
 * replay.ts). It is a SignalLogFollower (src/signals) starting at the log's head: a `signal.accepted`
 * message that continues the stream is forwarded at once, a reordered one waits `graceMs` for the missing
 * seqs and they are then read from PostgreSQL, and a check every `catchupIntervalMs` catches a lost final
 * message. Duplicates (≤ lastSeq) are dropped.
 */
import type { PrismaClient } from '@prisma/client';
import type { Bus } from '../bus/index.js';
import type { Logger } from '../lib/logger.js';
import { SignalLog, SignalLogFollower, type Signal, type SignalAcceptedEvent } from '../signals/index.js';

export interface SequencerDeps {
  /** The distributor holds the Prisma client; the SignalLog reads through it. */
  prisma: PrismaClient;
  bus: Bus;
  log: Logger;
  /** Receives every signal exactly once, in seq order. Must not throw (errors are logged). */
  forward: (signal: Signal) => void;
  /** How often PostgreSQL is checked for signals the bus never delivered (ms). */
  catchupIntervalMs: number;
  /** How long a reordered signal waits for the missing ones before they are read from the database (ms). */
  graceMs?: number;
}

export class SignalSequencer {
  private readonly follower: SignalLogFollower;
  private readonly signalLog: SignalLog;

  constructor(private readonly deps: SequencerDeps) {
    this.signalLog = new SignalLog(deps.prisma);
    this.follower = new SignalLogFollower({
      name: 'ws-sequencer', signalLog: this.signalLog, bus: deps.bus, log: deps.log, needs: 'signal',
      pollMs: deps.catchupIntervalMs, graceMs: deps.graceMs ?? 5,
      from: () => this.signalLog.headSeq(),
      handle: (batch) => {
        for (const { signal } of batch) {
          try { this.deps.forward(signal); } catch (err) { this.deps.log.error({ err, seq: signal.seq }, 'distributor forward failed'); }
        }
      },
    });
  }

  /** Highest seq forwarded so far: every signal up to it has been handed to `forward`. */
  get lastSeq(): number { return this.follower.cursor; }

  start(): Promise<void> { return this.follower.start(); }

  stop(): Promise<void> { return this.follower.stop(); }

  /** A signal from the bus (or the database). */
  offer(signal: Signal | undefined): void {
    if (signal) this.follower.offer({ signal } satisfies SignalAcceptedEvent);
  }
}
