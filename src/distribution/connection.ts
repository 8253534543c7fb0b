/**
 * Connection: one authenticated socket and its delivery state.
 * Vocabulary: `lastSentSeq` is the highest signal seq written to this socket; a live signal at or
 * below it is a duplicate and dropped. While a RESUME replay runs, live signals wait in `held` and
 * are flushed (those above the last replayed seq) when it ends. Every write goes through `send`,
 * which enforces the buffer bound: a socket whose unsent bytes would exceed it is closed with 1013.
 * Frames queue in `outbox` until `flush()` (once per event-loop turn), which writes them corked: a
 * burst of signals costs one syscall per socket instead of one per frame, on both ends. The outbox
 * holds complete WebSocket frames (protocol.ts `textFrame`): a live signal is framed once per
 * fan-out and the same bytes go to every socket's net.Socket, bypassing `ws.send` (which would
 * allocate a header and make two writes per recipient). ws keeps no state between data frames
 * without permessage-deflate (never negotiated here), so this interleaves safely with the frames ws
 * itself writes (ping, pong, close); `ws.bufferedAmount` still counts these bytes.
 */
import type { WebSocket } from 'ws';
import type { Signal } from '../signals/index.js';
import { CLOSE, frames, textFrame } from './protocol.js';

/** How the connection reports to the distributor. */
export interface ConnectionHooks {
  sent(n: number): void;
  slow(conn: Connection): void;
  /** Asks for `flush()` to be called soon (once per event-loop turn for all dirty connections). */
  dirty(conn: Connection): void;
}

/** The part of net.Socket a flush uses (ws keeps its socket as `_socket`). */
interface RawSocket { cork(): void; uncork(): void; write(b: Buffer): boolean }
/** Live signals held during a replay before the client counts as too slow. */
const MAX_HELD = 10_000;
/** Seqs remembered from before the first RESUME, so a late RESUME never repeats them. */
const MAX_EARLY = 1_000;
/** Queued bytes that trigger an immediate flush. */
const FLUSH_AT_BYTES = 16 * 1024;

export class Connection {
  lastSentSeq = 0;
  /** Answered the last server ping. */
  alive = true;
  closed = false;
  /** Strategies this connection is indexed under (kept by SubscriptionIndex). */
  readonly strategies = new Set<string>();
  /** Serialises this connection's client messages. */
  inbox: Promise<void> = Promise.resolve();
  expiryTimer?: NodeJS.Timeout;
  private held: { seq: number; frame: Buffer }[] | null = null;
  private early: SeqRanges | null = new SeqRanges();
  /** Reused (emptied in place): a fresh array per flush would live until the next signal and be promoted to the old generation. */
  private readonly outbox: Buffer[] = [];
  private outboxBytes = 0;

  constructor(readonly ws: WebSocket, readonly userId: string, private readonly maxBuffered: number, private readonly hooks: ConnectionHooks) {}

  get replaying() { return this.held !== null; }

  /** Writes one message (a JSON payload) unless the bound would be exceeded (then closes with 1013). Returns whether it was written. */
  send(payload: Buffer): boolean {
    return this.sendFrame(textFrame(payload));
  }

  /** As `send`, for a payload already framed with `textFrame` (a fan-out shares one frame between sockets). */
  sendFrame(frame: Buffer): boolean {
    if (this.closed) return false;
    if (this.ws.bufferedAmount + this.outboxBytes + frame.length > this.maxBuffered) {
      this.outbox.length = 0;
      this.outboxBytes = 0;
      this.close(CLOSE.slowConsumer, 'slow consumer: send buffer full');
      this.hooks.slow(this);
      return false;
    }
    if (!this.outbox.length) this.hooks.dirty(this);
    this.outbox.push(frame);
    this.outboxBytes += frame.length;
    // A large burst (a replay) goes out at once rather than piling up against the bound.
    if (this.outboxBytes >= FLUSH_AT_BYTES) this.flush();
    return true;
  }

  /** Writes the queued frames in one corked batch. */
  flush(): void {
    const frames = this.outbox;
    const n = frames.length;
    if (!n) return;
    this.outboxBytes = 0;
    const socket = (this.ws as unknown as { _socket?: RawSocket })._socket;
    if (this.ws.readyState !== 1 || !socket) { frames.length = 0; return; }
    if (n === 1) socket.write(frames[0]!);
    else {
      // Corked, the batch leaves as one writev.
      socket.cork();
      for (let i = 0; i < n; i++) socket.write(frames[i]!);
      socket.uncork();
    }
    frames.length = 0;
    this.hooks.sent(n);
  }

  /** A live signal (already serialised and framed with `textFrame`), in seq order. */
  deliver(seq: number, frame: Buffer): void {
    if (this.closed || seq <= this.lastSentSeq) return;
    if (this.held) {
      if (this.held.length >= MAX_HELD) { this.close(CLOSE.slowConsumer, 'slow consumer: replay backlog'); this.hooks.slow(this); return; }
      this.held.push({ seq, frame });
      return;
    }
    if (!this.sendFrame(frame)) return;
    this.lastSentSeq = seq;
    if (this.early) { this.early.add(seq); if (this.early.size > MAX_EARLY) this.early = null; }
  }

  /** Starts holding live signals; false when a replay is already running. */
  beginReplay(): boolean {
    if (this.held) return false;
    this.held = [];
    return true;
  }

  /**
   * Sends the replayed signals (ascending seq), then the held live ones above them, and returns to
   * live delivery. Seqs already sent on this socket are skipped, so nothing is sent twice.
   */
  endReplay(replayed: Signal[]): void {
    const early = this.early;
    this.early = null;
    const held = this.held ?? [];
    this.held = null;
    for (const s of replayed) {
      const already = early ? early.has(s.seq) : s.seq <= this.lastSentSeq;
      if (already) continue;
      if (!this.send(frames.signal(s))) return;
      if (s.seq > this.lastSentSeq) this.lastSentSeq = s.seq;
    }
    for (const h of held) this.deliver(h.seq, h.frame);
  }

  /** Abandons a failed replay: held live signals are still delivered. */
  abortReplay(): void { this.endReplay([]); }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.held = null;
    clearTimeout(this.expiryTimer);
    this.ws.close(code, reason);
    // A client that reads nothing never completes the close handshake; do not keep its memory for long.
    setTimeout(() => this.ws.terminate(), 10_000).unref();
  }

  terminate(): void {
    this.closed = true;
    this.held = null;
    clearTimeout(this.expiryTimer);
    this.ws.terminate();
  }
}

/**
 * The seqs a connection was sent before its first RESUME, as ascending runs [from, to] in a flat
 * array. Live signals arrive in ascending seq, so a user who gets every signal costs one run, not one
 * Set entry (and its rehashing garbage) per signal per connection.
 */
export class SeqRanges {
  private readonly runs: number[] = [];
  /** Seqs held. */
  size = 0;

  /** Adds `seq`, which must be above every seq added before. */
  add(seq: number): void {
    const r = this.runs;
    if (r.length && r[r.length - 1] === seq - 1) r[r.length - 1] = seq;
    else r.push(seq, seq);
    this.size++;
  }

  has(seq: number): boolean {
    const r = this.runs;
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (seq < r[2 * mid]!) hi = mid - 1;
      else if (seq > r[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }
}
