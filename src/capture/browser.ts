/**
 * BrowserHost: the capturer's one headless Chromium (puppeteer-core, Debian /usr/bin/chromium).
 * Launched lazily with a fresh --user-data-dir; relaunched on the next use after it crashes or is
 * killed; recycled (a new one launched, the old one closed once its pages finish) after
 * `recycleAfter` pages, which bounds Chromium's memory growth. Callers only see `withPage()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Logger } from '../lib/logger.js';
import type { CaptureMetrics } from './metrics.js';

/** Flags Debian Chromium needs in containers and CI (no sandbox as root, no GPU, no background traffic). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Live { browser: Browser; dir: string; uses: number; active: number; retiring: boolean; closing: boolean; idle: Page[] }

export class BrowserHost {
  private current: Live | undefined;
  private launching: Promise<Live> | undefined;
  private readonly all = new Set<Live>();
  private stopped = false;
  /** Why the next launch happens (metric label). */
  private nextReason: 'start' | 'recycle' | 'crash' = 'start';

  constructor(private readonly deps: {
    chromiumPath: string;
    /** Pages per browser before it is recycled. */
    recycleAfter: number;
    /** Bound for every DevTools call, ms (a hung Chromium fails calls instead of hanging them). */
    protocolTimeoutMs: number;
    log: Logger;
    metrics: CaptureMetrics;
  }) {}

  /** PID of the current Chromium, if one is running. */
  pid(): number | undefined {
    return this.current?.browser.process()?.pid;
  }

  /**
   * Runs `fn` with a page of the current browser (launching one if needed). Pages are reused after a
   * success (opening a window costs 200-400 ms) and closed after a failure (it may still be loading).
   * Errors of `fn` (and of a browser that dies meanwhile) propagate.
   */
  async withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    if (this.stopped) throw new Error('browser host stopped');
    const live = await this.acquire();
    live.uses++;
    live.active++;
    if (live.uses >= this.deps.recycleAfter && this.current === live) {
      this.current = undefined;
      live.retiring = true;
      this.nextReason = 'recycle';
      this.deps.log.info({ pid: live.browser.process()?.pid, uses: live.uses }, 'recycling browser');
    }
    let page: Page | undefined;
    let ok = false;
    try {
      // Own window per page: a tab in the background gets no animation frames, so the chart would never paint.
      page = live.idle.pop() ?? await live.browser.newPage({ type: 'window' });
      const result = await fn(page);
      ok = true;
      return result;
    } finally {
      if (page && ok && !live.retiring && !page.isClosed()) live.idle.push(page);
      else if (page) await withTimeout(page.close(), 2000).catch(() => {});
      live.active--;
      if (live.retiring && live.active === 0) void this.close(live);
    }
  }

  /** Closes every browser and removes their profile directories. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.launching?.catch(() => undefined);
    this.current = undefined;
    await Promise.all([...this.all].map((l) => this.close(l)));
  }

  private async acquire(): Promise<Live> {
    if (this.current?.browser.connected) return this.current;
    this.launching ??= this.launch().finally(() => { this.launching = undefined; });
    return this.launching;
  }

  private async launch(): Promise<Live> {
    const reason = this.nextReason;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sm-chromium-'));
    let browser: Browser;
    try {
      browser = await puppeteer.launch({
        executablePath: this.deps.chromiumPath, headless: true, args: CHROMIUM_ARGS, userDataDir: dir,
        handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
        protocolTimeout: this.deps.protocolTimeoutMs, timeout: 30_000,
      });
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    const live: Live = { browser, dir, uses: 0, active: 0, retiring: false, closing: false, idle: [] };
    this.all.add(live);
    this.nextReason = 'crash';
    browser.on('disconnected', () => {
      if (!live.closing) {
        this.deps.log.error({ pid: browser.process()?.pid }, 'browser disconnected (crashed or killed); relaunching on next capture');
        this.deps.metrics.browserCrash();
      }
      if (this.current === live) this.current = undefined;
      this.all.delete(live);
      void rm(live.dir, { recursive: true, force: true }).catch(() => {});
    });
    this.deps.metrics.browserLaunch(reason);
    this.deps.log.info({ pid: browser.process()?.pid, reason }, 'browser launched');
    if (this.stopped) { await this.close(live); throw new Error('browser host stopped'); }
    this.current = live;
    return live;
  }

  private async close(live: Live): Promise<void> {
    if (live.closing) return;
    live.closing = true;
    const proc = live.browser.process();
    await withTimeout(live.browser.close(), 5000).catch(() => { proc?.kill('SIGKILL'); });
    this.all.delete(live);
    await rm(live.dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Rejects after `ms` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, message = `timed out after ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error(message), { name: 'TimeoutError' })), ms); }),
  ]);
}
