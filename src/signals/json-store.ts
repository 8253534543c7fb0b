/**
 * SignalJsonStore: the JSON projection of trades under DATA_DIR/signals — active.json (open trades),
 * completed_trades.json (the most recent completed trades), closed/YYYY-MM.json (every trade closed
 * in that UTC month) and metadata.json (counts, lastSeq, updatedAt).
 *
 * One writer per store (the process with the `store` role), whichever process accepted the signal: the
 * store follows the signal log like every other consumer (SignalLogFollower: woken by `signal.accepted` on
 * the bus, whose message carries the trade, so a signal accepted by another process is applied without
 * reading PostgreSQL; gaps and lost messages are read by seq). Effects are applied in seq order and are
 * idempotent by trade id. Writes are coalesced: one flush writes
 * every file changed since the previous flush, data files first and metadata.json last, each atomically
 * (unique temp name, fsync, rename, directory fsync). Rendered JSON is cached in chunks (ChunkedJsonList),
 * so a flush with 10,000 open trades re-encodes one chunk and copies the rest.
 * On start: leftover temp files are removed; a missing or corrupt file is reported and everything is
 * rebuilt from the database; a store behind the database catches up.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bus } from '../bus/index.js';
import { removeLeftoverTemps, stageFile } from '../lib/atomic-file.js';
import type { Logger } from '../lib/logger.js';
import { ChunkedJsonList } from './chunked-list.js';
import { SignalLogFollower } from './log-follower.js';
import { monthRange, type SignalReader } from './repository.js';
import type { SignalLog } from './signal-log.js';
import type { ActiveTrade, CompletedTrade, SignalEffect } from './types.js';

const FILES = ['active.json', 'completed_trades.json', 'metadata.json'];

export interface StoreMetadata {
  lastSeq: number;
  updatedAt: string;
  counts: { signals: number; active: number; completedTotal: number; completedRecent: number };
}

export interface StoreMetrics { writeSeconds(seconds: number, bytes: number): void }

class CorruptFileError extends Error {}

type Waiter = { resolve(): void; reject(e: unknown): void };

export class SignalJsonStore {
  readonly dir: string;
  private active = new ChunkedJsonList(); // trade id → JSON text, in open order
  private completed = new ChunkedJsonList(); // most recent, in close order
  private months = new Map<string, ChunkedJsonList>(); // 'YYYY-MM' → trade id → JSON text
  private meta: StoreMetadata = { lastSeq: 0, updatedAt: new Date(0).toISOString(), counts: { signals: 0, active: 0, completedTotal: 0, completedRecent: 0 } };
  private dirty = new Set<string>();
  private waiters: Waiter[] = [];
  private writing: Promise<unknown> | null = null;
  private readonly follower: SignalLogFollower;
  private retry?: NodeJS.Timeout;
  private durableListeners = new Set<(lastSeq: number) => void>();
  private stopped = false;

  constructor(private readonly opts: {
    dataDir: string;
    reader: SignalReader;
    signalLog: SignalLog;
    /** Where `signal.accepted` arrives from every process (absent: only the poll, sync() and apply()). */
    bus?: Bus;
    log: Logger;
    metrics?: StoreMetrics;
    recentLimit?: number;
    /** The follower's safety-net poll of the signal log (ms; 0: never). */
    pollMs?: number;
  }) {
    this.dir = path.join(opts.dataDir, 'signals');
    this.follower = new SignalLogFollower({
      name: 'json-store', signalLog: opts.signalLog, bus: opts.bus, log: opts.log, pollMs: opts.pollMs ?? 0,
      from: () => this.recover(), handle: (batch) => this.applyBatch(batch),
    });
  }

  private get recentLimit() { return this.opts.recentLimit ?? 1000; }

  /** Recovers from disk or rebuilds from the database, catches up, and follows the log from then on. */
  async start(): Promise<void> {
    await this.follower.start();
    await this.flushNow();
  }

  /** The follower's start cursor: the files' lastSeq, after removing temp files and rebuilding what is corrupt or ahead. */
  private async recover(): Promise<number> {
    await mkdir(path.join(this.dir, 'closed'), { recursive: true });
    const removed = [
      ...await removeLeftoverTemps(this.dir, FILES),
      ...await removeLeftoverTemps(path.join(this.dir, 'closed'), []),
    ];
    if (removed.length) this.opts.log.warn({ removed }, 'JSON store: removed temp files left by an interrupted write');
    const loaded = await this.load();
    const dbLast = await this.opts.signalLog.headSeq();
    if (!loaded || this.meta.lastSeq > dbLast) {
      if (loaded) this.opts.log.warn({ fileSeq: this.meta.lastSeq, dbSeq: dbLast }, 'JSON store is ahead of the database (restored backup?): rebuilding from the database');
      await this.rebuild();
    }
    return this.meta.lastSeq;
  }

  /** Stops following and waits for pending writes; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.follower.stop();
    clearTimeout(this.retry);
    while (this.writing) await this.writing.catch(() => {});
  }

  metadata(): StoreMetadata { return structuredClone(this.meta); }

  /** Calls `listener(lastSeq)` after every flush that made signals up to lastSeq durable. Returns an unsubscribe. */
  onDurable(listener: (lastSeq: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => { this.durableListeners.delete(listener); };
  }

  /** Applies one accepted signal's effect (a gap before it is read from the database) and resolves once it is durably on disk. */
  async apply(effect: SignalEffect): Promise<void> {
    this.follower.offer(effect);
    if (effect.signal.seq > this.meta.lastSeq) await this.follower.sync();
    await this.flushNow();
  }

  /** The follower's handler: applies in memory at once; the write is coalesced with whatever follows. */
  private applyBatch(batch: SignalEffect[]): void {
    for (const e of batch) {
      if (e.signal.seq === this.meta.lastSeq + 1) this.applyOne(e);
      else if (e.signal.seq > this.meta.lastSeq) throw new Error(`JSON store at seq ${this.meta.lastSeq} was handed seq ${e.signal.seq}`);
    }
    if (this.dirty.size) this.flushNow().catch((err) => this.opts.log.error({ err, lastSeq: this.meta.lastSeq }, 'JSON store write failed; retrying'));
  }

  private applyOne({ signal, opened, closed }: SignalEffect): void {
    if (signal.action === 'OPEN' && opened) {
      this.active.set(opened.id, JSON.stringify(opened));
      this.dirty.add('active');
    }
    if (signal.action === 'CLOSE' && closed) this.addCompleted(closed);
    this.meta.lastSeq = signal.seq;
    this.meta.counts.signals += 1;
    this.dirty.add('metadata');
  }

  private addCompleted(t: CompletedTrade): void {
    const text = JSON.stringify(t);
    if (this.active.delete(t.id)) this.dirty.add('active');
    if (!this.completed.has(t.id)) this.meta.counts.completedTotal += 1;
    this.completed.set(t.id, text);
    while (this.completed.size > this.recentLimit) this.completed.shift();
    this.dirty.add('completed');
    const month = t.closedAt.slice(0, 7);
    let m = this.months.get(month);
    if (!m) this.months.set(month, (m = new ChunkedJsonList()));
    m.set(t.id, text);
    this.dirty.add(`month:${month}`);
  }

  /** Catches up with every committed signal and resolves once they are durably written. */
  async flush(): Promise<void> {
    await this.follower.sync();
    await this.flushNow();
  }

  private flushNow(): Promise<void> {
    if (!this.dirty.size && !this.writing) return Promise.resolve();
    return new Promise((resolve, reject) => { this.waiters.push({ resolve, reject }); this.kick(); });
  }

  private kick(): void {
    if (this.writing || !this.waiters.length) return;
    const batch = this.waiters;
    const files = this.dirty;
    this.waiters = [];
    this.dirty = new Set();
    this.writing = this.writeFiles(files)
      .then((seq) => {
        batch.forEach((w) => w.resolve());
        for (const l of this.durableListeners) l(seq);
      }, (err) => {
        for (const f of files) this.dirty.add(f); // retried by the next flush, or in a second
        batch.forEach((w) => w.reject(err));
        this.retryLater();
      })
      .finally(() => { this.writing = null; this.kick(); });
  }

  private retryLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.flushNow().catch((err) => this.opts.log.error({ err, lastSeq: this.meta.lastSeq }, 'JSON store write failed again; retrying'));
    }, 1000);
    this.retry.unref();
  }

  /** Writes the changed files, then metadata.json; resolves with the lastSeq they hold. */
  private async writeFiles(files: Set<string>): Promise<number> {
    const started = process.hrtime.bigint();
    for (const f of files) if (f.startsWith('month:')) await this.ensureMonthLoaded(f.slice(6));
    // Render everything in one synchronous step, so metadata.json describes exactly what the data files hold.
    const out: [string, Buffer[]][] = [];
    for (const f of files) {
      if (f === 'active') out.push(['active.json', this.active.renderParts()]);
      else if (f === 'completed') out.push(['completed_trades.json', this.completed.renderParts()]);
      else if (f.startsWith('month:')) out.push([`closed/${f.slice(6)}.json`, this.months.get(f.slice(6))!.renderParts()]);
    }
    this.meta.updatedAt = new Date().toISOString();
    this.meta.counts.active = this.active.size;
    this.meta.counts.completedRecent = this.completed.size;
    const meta = JSON.stringify(this.meta, null, 2) + '\n';
    const seq = this.meta.lastSeq;
    let bytes = meta.length;
    for (const [, parts] of out) for (const b of parts) bytes += b.length;
    // Every temp file is written and fsynced at once; then the data files go in place (renamed, directory
    // fsynced) strictly before metadata.json, so a crash never leaves metadata ahead of the data it describes.
    const staged = await Promise.allSettled([...out.map(([name, parts]) => stageFile(path.join(this.dir, name), parts)), stageFile(path.join(this.dir, 'metadata.json'), meta)]);
    const failed = staged.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const ready = staged.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) { await Promise.all(ready.map((f) => f.abort())); throw failed.reason; }
    const metaFile = ready.pop()!;
    try {
      await Promise.all(ready.map((f) => f.commit()));
    } catch (err) {
      await metaFile.abort();
      throw err;
    }
    await metaFile.commit();
    this.opts.metrics?.writeSeconds(Number(process.hrtime.bigint() - started) / 1e9, bytes);
    return seq;
  }

  private loadedMonths = new Set<string>();

  /** Merges a month's archive from disk (or the database, if corrupt) before first rewriting it. */
  private async ensureMonthLoaded(month: string): Promise<void> {
    if (this.loadedMonths.has(month)) return;
    const mem = this.months.get(month) ?? new ChunkedJsonList();
    let stored: CompletedTrade[] | null = [];
    try {
      stored = await readJsonArray<CompletedTrade>(path.join(this.dir, 'closed', `${month}.json`));
    } catch (err) {
      this.opts.log.error({ month, err: (err as Error).message }, 'JSON store: corrupt monthly archive, rebuilding it from the database');
      stored = await this.opts.reader.completedBetween(...monthRange(month));
    }
    const merged = new ChunkedJsonList((stored ?? []).map((t) => [t.id, JSON.stringify(t)]));
    for (const text of mem.values()) merged.set((JSON.parse(text) as CompletedTrade).id, text);
    this.months.set(month, merged);
    this.loadedMonths.add(month);
  }

  /** Loads the three main files; false when the store is missing or corrupt (after logging why). */
  private async load(): Promise<boolean> {
    try {
      const meta = await readJson<StoreMetadata>(path.join(this.dir, 'metadata.json'));
      if (!meta) return false;
      if (typeof meta.lastSeq !== 'number' || !meta.counts) throw new CorruptFileError('metadata.json: missing lastSeq or counts');
      const active = await readJsonArray<ActiveTrade>(path.join(this.dir, 'active.json'));
      const completed = await readJsonArray<CompletedTrade>(path.join(this.dir, 'completed_trades.json'));
      if (!active || !completed) throw new CorruptFileError('active.json or completed_trades.json is missing');
      this.meta = meta;
      this.active = new ChunkedJsonList(active.map((t) => [t.id, JSON.stringify(t)]));
      this.completed = new ChunkedJsonList(completed.map((t) => [t.id, JSON.stringify(t)]));
      return true;
    } catch (err) {
      this.opts.log.error({ dir: this.dir, err: (err as Error).message }, 'JSON store is corrupt: rebuilding it from the database');
      return false;
    }
  }

  /** Rewrites every file from one consistent database snapshot. */
  async rebuild(): Promise<void> {
    const snap = await this.opts.reader.snapshot(this.recentLimit);
    this.active = new ChunkedJsonList(snap.active.map((t) => [t.id, JSON.stringify(t)]));
    this.completed = new ChunkedJsonList(snap.recent.map((t) => [t.id, JSON.stringify(t)]));
    this.months = new Map();
    this.loadedMonths = new Set();
    this.meta = { lastSeq: snap.lastSeq, updatedAt: new Date().toISOString(), counts: { signals: snap.counts.signals, active: snap.active.length, completedTotal: snap.counts.completed, completedRecent: snap.recent.length } };
    const dirty = new Set(['active', 'completed', 'metadata']);
    for (const [month, trades] of snap.months) {
      this.months.set(month, new ChunkedJsonList(trades.map((t) => [t.id, JSON.stringify(t)])));
      this.loadedMonths.add(month);
      dirty.add(`month:${month}`);
    }
    for (const d of dirty) this.dirty.add(d);
    await this.flushNow();
    this.opts.log.info({ lastSeq: snap.lastSeq, active: snap.active.length }, 'JSON store rebuilt from the database');
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try { return JSON.parse(text) as T; } catch (err) {
    throw new CorruptFileError(`${path.basename(file)}: ${(err as Error).message}`);
  }
}

async function readJsonArray<T>(file: string): Promise<T[] | null> {
  const v = await readJson<T[]>(file);
  if (v !== null && !Array.isArray(v)) throw new CorruptFileError(`${path.basename(file)}: expected an array`);
  return v;
}
