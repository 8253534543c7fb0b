/**
 * Capturer: visits each capture target's chart page on its own schedule in the one headless Chromium,
 * reads the drawn markers with the target's extractor, and turns each new marker into a signal for the
 * coordinator with a PNG screenshot of the chart as its evidence (DATA_DIR/evidence, served at /evidence).
 * Resilience: every visit is bounded (CAPTURE_PAGE_TIMEOUT_MS); any failure (timeout, page error,
 * Chromium crash or kill) is one log line and one metric, and that target is simply visited again at
 * its next tick; targets run independently (at most CAPTURE_CONCURRENCY pages at once), so a hung
 * target never blocks the others. Targets come from CAPTURE_TARGETS_FILE, re-read when it changes, merged
 * with the enabled strategy bots (`bots`: TradingBot rows, re-read on the same period and whenever the bus
 * announces a bot change), whose captures, failures and latest screenshot are recorded on the bot.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import type { Config } from '../config/index.js';
import { writeFileDurable } from '../lib/atomic-file.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SignalCoordinator } from '../signals/index.js';
import { withTimeout, type BrowserHost } from './browser.js';
import { isMarker, type Extractor } from './extractors/index.js';
import { markerSignal, newMarkers, startCursor, type MarkerCursor } from './marker-signals.js';
import type { CaptureMetrics, FailureReason } from './metrics.js';
import type { Marker } from './strategies/index.js';
import { readTargetsFile, targetUrl, type CaptureTarget } from './targets.js';

interface TargetState { target: CaptureTarget; cursor: MarkerCursor; timer?: NodeJS.Timeout; removed: boolean }

/** Strategy bots as capture targets, and where their outcomes are recorded (src/capture/bot-store.ts). */
export interface BotSource {
  targets(): Promise<CaptureTarget[]>;
  /** A visit read the page; `screenshot` is the evidence file name when new markers were captured. */
  captured(botId: string, screenshot: string | undefined): Promise<void>;
  failed(botId: string, reason: string, message: string): Promise<void>;
  /** `n` markers became new signals. */
  signalled(botId: string, n: number): Promise<void>;
}

/** A failure whose reason is known where it happens. */
class CaptureFailure extends Error {
  constructor(readonly reason: FailureReason, message: string) { super(message); }
}

export class Capturer {
  private readonly states = new Map<string, TargetState>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly slots: Slots;
  private reloadTimer?: NodeJS.Timeout;
  private fileText: string | undefined;
  private fileTargets: CaptureTarget[] = [];
  private reloading: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;
  private botTargets: CaptureTarget[] = [];
  /** When the bots were last read (ms); 0 = read them on the next reload. */
  private botsReadAt = 0;
  private stopped = false;
  private lastOkAt: string | null = null;

  constructor(private readonly deps: {
    settings: Config['capture'];
    log: Logger;
    metrics: CaptureMetrics;
    coordinator: Pick<SignalCoordinator, 'accept'>;
    browser: BrowserHost;
    evidenceDir: string;
    /** Origin of our chart pages (resolved at visit time: the server may start after us). */
    baseUrl: () => string;
    extractors: Readonly<Record<string, Extractor>>;
    /** Strategy bots (TradingBot rows); absent: the file's targets only. */
    bots?: BotSource;
  }) {
    this.slots = new Slots(deps.settings.concurrency);
  }

  /** Reads the targets file and starts visiting; re-reads the file every targetsReloadMs. */
  async start(): Promise<void> {
    await mkdir(this.deps.evidenceDir, { recursive: true });
    await this.reload();
    this.reloadTimer = setInterval(() => { void this.reload(); }, this.deps.settings.targetsReloadMs);
    this.reloadTimer.unref();
  }

  /** Stops scheduling, waits (bounded) for visits in progress, closes Chromium. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reloadTimer);
    for (const s of this.states.values()) { s.removed = true; clearTimeout(s.timer); }
    await withTimeout(Promise.allSettled([...this.inFlight]), 5000).catch(() => {});
    await this.deps.browser.stop();
  }

  /** The targets being captured. */
  targets(): CaptureTarget[] {
    return [...this.states.values()].map((s) => s.target);
  }

  /** For /health. */
  health(): { ok: boolean; targets: number; browserPid: number | null; lastOkAt: string | null } {
    return { ok: true, targets: this.states.size, browserPid: this.deps.browser.pid() ?? null, lastOkAt: this.lastOkAt };
  }

  /**
   * Re-reads the targets file (parsed again only when its text changed) and the enabled bots, then adds,
   * replaces and removes targets. Calls are serialised (the timer and a bus message may overlap).
   */
  reload(): Promise<void> {
    // At most one waiting behind the running one: ticks that arrive meanwhile share it (no backlog under load).
    this.pending ??= this.reloading.then(() => { this.pending = undefined; return this.reloadOnce(); }).catch((err) => {
      this.deps.log.error({ err: (err as Error).message }, 'reloading capture targets failed; keeping the current ones');
    });
    this.reloading = this.pending;
    return this.pending;
  }

  private async reloadOnce(): Promise<void> {
    const read = await readTargetsFile(this.deps.settings.targetsFile, Object.keys(this.deps.extractors));
    if (this.stopped) return;
    if (read.text !== this.fileText) {
      this.fileText = read.text;
      this.fileTargets = read.targets;
      for (const e of read.errors) this.deps.log.error({ file: this.deps.settings.targetsFile, problem: e }, 'capture target ignored');
    }
    // Bots: on a bus announcement (botsChanged), else at most every 2 s (a short file period need not query PostgreSQL that often).
    if (this.deps.bots && Date.now() - this.botsReadAt >= Math.max(2000, this.deps.settings.targetsReloadMs)) {
      this.botsReadAt = Date.now();
      this.botTargets = await this.deps.bots.targets();
    }
    const bots = this.botTargets;
    if (this.stopped) return;
    const wanted = new Map([...this.fileTargets, ...bots].map((t) => [t.id, t]));
    if (this.apply(wanted)) this.deps.log.info({ targets: this.states.size, bots: bots.length, file: this.deps.settings.targetsFile }, 'capture targets loaded');
  }

  /** A bot was created, changed or deleted (bus): re-read the bots now. */
  botsChanged(): Promise<void> {
    this.botsReadAt = 0;
    return this.reload();
  }

  /** Makes the running targets exactly `wanted`; true when anything changed. */
  private apply(wanted: Map<string, CaptureTarget>): boolean {
    let changed = false;
    for (const [id, s] of this.states) {
      if (!wanted.has(id)) { s.removed = true; clearTimeout(s.timer); this.states.delete(id); changed = true; }
    }
    for (const t of wanted.values()) {
      const old = this.states.get(t.id);
      if (old && JSON.stringify(old.target) === JSON.stringify(t)) continue;
      changed = true;
      const sameSeries = old && old.target.strategyId === t.strategyId && old.target.pair === t.pair && old.target.timeframe === t.timeframe;
      if (old) { old.removed = true; clearTimeout(old.timer); }
      const state: TargetState = { target: t, cursor: sameSeries ? old.cursor : startCursor(Date.now(), t.backfillSeconds ?? this.deps.settings.backfillSeconds), removed: false };
      this.states.set(t.id, state);
      this.schedule(state, 0);
    }
    return changed;
  }

  private schedule(state: TargetState, delayMs: number): void {
    if (state.removed || this.stopped) return;
    state.timer = setTimeout(() => {
      const started = Date.now();
      const run = this.slots.use(() => this.visit(state)).finally(() => {
        this.inFlight.delete(run);
        this.schedule(state, Math.max(0, state.target.intervalSeconds * 1000 - (Date.now() - started)));
      });
      this.inFlight.add(run);
    }, delayMs);
  }

  /** One capture of one target. Never throws: failures are logged and counted. */
  async visit(state: TargetState): Promise<void> {
    if (state.removed || this.stopped) return;
    const t = state.target;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let fresh: Marker[];
    let png: Buffer | undefined;
    try {
      // Outer bound: page work is already bounded, this also covers a browser that stops answering.
      ({ fresh, png } = await withTimeout(this.deps.browser.withPage((page) => this.capture(page, state)), this.deps.settings.pageTimeoutMs + 5000));
    } catch (err) {
      if (state.removed) return; // dropped meanwhile (e.g. a bot disabled): nothing is recorded
      const reason = classify(err);
      this.deps.metrics.failed(t.id, reason, seconds());
      this.deps.log.warn({ target: t.id, strategyId: t.strategyId, reason, err: (err as Error).message?.slice(0, 300) }, 'capture failed');
      this.record(t, (b) => b.failed(t.botId!, reason, String((err as Error).message ?? err)));
      return;
    }
    // Dropped while the page was open (a bot disabled or deleted, a target removed): its markers are not published.
    if (state.removed) return;
    let evidence: string | undefined;
    if (fresh.length && png) {
      try {
        evidence = await this.saveEvidence(t, fresh.at(-1)!, png);
      } catch (err) {
        this.deps.metrics.failed(t.id, 'evidence', seconds());
        this.deps.log.error({ target: t.id, err: (err as Error).message }, 'capture failed: saving the screenshot failed');
        this.record(t, (b) => b.failed(t.botId!, 'evidence', 'saving the screenshot failed'));
        return;
      }
    }
    this.deps.metrics.ok(t.id, seconds());
    this.lastOkAt = new Date().toISOString();
    this.record(t, (b) => b.captured(t.botId!, evidence ? path.basename(evidence) : undefined));
    const accepted = await this.submit(state, fresh, evidence);
    if (accepted) this.record(t, (b) => b.signalled(t.botId!, accepted));
  }

  /** Records an outcome on the target's bot (bot targets only); a failing write is logged, never thrown. */
  private record(t: CaptureTarget, write: (bots: BotSource) => Promise<void>): void {
    if (!t.botId || !this.deps.bots) return;
    write(this.deps.bots).catch((err) => this.deps.log.warn({ target: t.id, err: (err as Error).message }, 'recording the bot outcome failed'));
  }

  /** Opens the page, reads the markers, and screenshots the chart when some are new. */
  private async capture(page: Page, state: TargetState): Promise<{ fresh: Marker[]; png?: Buffer }> {
    const pageErrors: string[] = [];
    const onError = (e: unknown) => { pageErrors.push(String((e as Error).message ?? e)); };
    page.on('pageerror', onError);
    try {
      return await this.captureOn(page, state, pageErrors);
    } finally {
      page.off('pageerror', onError);
    }
  }

  private async captureOn(page: Page, state: TargetState, pageErrors: string[]): Promise<{ fresh: Marker[]; png?: Buffer }> {
    const t = state.target;
    const deadline = Date.now() + this.deps.settings.pageTimeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    await page.setViewport({ width: 900, height: 600 });
    const res = await page.goto(targetUrl(this.deps.baseUrl(), t), { waitUntil: 'domcontentloaded', timeout: left() });
    if (res && res.status() >= 400) throw new CaptureFailure('page_error', `chart page answered HTTP ${res.status()}`);
    let markers: Marker[];
    let selector: string | undefined;
    try {
      ({ markers, screenshotSelector: selector } = await this.deps.extractors[t.extractor]!(page, { target: t, timeoutMs: left() }));
    } catch (err) {
      if (pageErrors.length) throw new CaptureFailure('page_error', `page script threw: ${pageErrors[0]}`);
      throw err;
    }
    const fresh = newMarkers(markers.filter(isMarker), state.cursor, t.timeframe);
    if (!fresh.length) return { fresh };
    const el = selector ? await page.$(selector).catch(() => null) : null;
    const shot = el ? await el.screenshot({ type: 'png' }) : await page.screenshot({ type: 'png' });
    return { fresh, png: Buffer.from(shot) };
  }

  /** Writes the screenshot atomically and durably under evidenceDir (the project's atomic write); returns its public URL path. */
  private async saveEvidence(t: CaptureTarget, last: Marker, png: Buffer): Promise<string> {
    const file = `${t.strategyId}_${t.pair.replace('/', '-')}_${t.timeframe}_${last.time}_${last.side}.png`;
    await writeFileDurable(path.join(this.deps.evidenceDir, file), png);
    return `/evidence/${file}`;
  }

  /**
   * Hands new markers to the coordinator in time order; a refusal (4xx) is final, anything else is retried next visit.
   * @returns how many became new signals
   */
  private async submit(state: TargetState, fresh: Marker[], evidence: string | undefined): Promise<number> {
    const t = state.target;
    let accepted = 0;
    const opts = t.autoCreate ? { autoCreate: { name: t.name ?? `${t.strategy} ${t.pair} ${t.timeframe}` } } : {};
    for (const m of fresh) {
      const fields = { target: t.id, strategyId: t.strategyId, pair: t.pair, markerTime: m.time, side: m.side };
      try {
        const r = await this.deps.coordinator.accept(markerSignal(t, m, evidence), 'capture', opts);
        this.deps.metrics.signal(t.id, r.duplicate ? 'duplicate' : 'accepted');
        if (!r.duplicate) accepted++;
        this.deps.log.debug({ ...fields, signalId: r.signal.id, duplicate: r.duplicate }, 'captured marker submitted');
      } catch (err) {
        if (err instanceof AppError && err.status < 500) {
          this.deps.metrics.signal(t.id, 'refused');
          this.deps.log.warn({ ...fields, code: err.code, reason: err.message }, 'captured marker refused; not retried');
          this.record(t, (b) => b.failed(t.botId!, 'refused', `signal refused: ${err.code}: ${err.message}`));
        } else {
          this.deps.metrics.signal(t.id, 'error');
          this.deps.log.error({ ...fields, err: (err as Error).message }, 'submitting captured marker failed; retrying on the next visit');
          return accepted; // later markers wait: signals keep their time order
        }
      }
      state.cursor.lastHandled = m.time;
    }
    return accepted;
  }
}

/** Maps an error from a visit to a failure reason (metric label). */
function classify(err: unknown): FailureReason {
  if (err instanceof CaptureFailure) return err.reason;
  const e = err as Error;
  if (e?.name === 'TimeoutError') return 'timeout';
  const msg = String(e?.message ?? e);
  if (/closed|disconnected|crash|detached|Failed to launch|browser host stopped|ECONNRESET|socket hang up/i.test(msg)) return 'browser';
  if (/net::ERR_|CAPTURE_PAGE_ERROR|chart page reports/i.test(msg) || (err instanceof AppError && err.code === 'CAPTURE_PAGE_ERROR')) return 'page_error';
  return 'extract';
}

/** At most `n` concurrent uses, FIFO. */
class Slots {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    try { return await fn(); } finally {
      const next = this.waiters.shift();
      if (next) next(); else this.free++;
    }
  }
}
