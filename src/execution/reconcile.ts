/**
 * FuturesReconciler (role executor): the exchange closes positions too. Every RECONCILE_INTERVAL_MS it claims
 * the live futures Positions not checked within the period (reconcile-store.ts: several executor processes
 * share the work, none polls a position twice in a period), groups them by API key (opened through the
 * subscriptions module, as the runner does) and checks each key (reconcile-check.ts): one positions request
 * for all of the key's symbols, then lookups only where something changed.
 *
 * Paper futures positions (no orders on the exchange) fire their stop-loss / take-profit levels at the venue's
 * public mark price in the same period (reconcile-paper.ts).
 *
 * It never starves the order path: its requests are the venue budget's 'prices' traffic (the monitor's class:
 * ahead of charts and key tests, which stop at EXCHANGE_BUDGET_OTHER_PERCENT of each window, and behind the
 * executor's orders, which keep the rest of it), never wait for budget by default (`budgetWaitMs`: a key that
 * finds none is skipped and checked next period), and each also takes from the key's own allowance (the
 * executor's KeyThrottle).
 */
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { ExchangeBusy, ExchangeError, FuturesAccounts, keyScope, perKeyRate, type KeyThrottle, type VenueBudget } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import type { SubscriptionKeys } from '../subscriptions/index.js';
import { checkKey, type CheckReport } from './reconcile-check.js';
import { ReconcileMetrics } from './reconcile-metrics.js';
import { firePaperLevels } from './reconcile-paper.js';
import { ReconcileStore, type HeldPosition } from './reconcile-store.js';

export interface ReconcilerOptions {
  intervalMs: number;
  exchangeUrls: Readonly<Record<string, string>>;
  exchangeTimeoutMs: number;
  recvWindowMs: number;
  /** Keys checked at once (default 8). */
  keysInParallel?: number;
  /** Longest a request waits for the venue budget before the key is left for the next period (default 0). */
  budgetWaitMs?: number;
}

export interface ReconcilerDeps {
  pool: pg.Pool;
  keys: SubscriptionKeys;
  throttle: KeyThrottle;
  budget?: VenueBudget;
  log: Logger;
  /** The app's registry: reconcile_poll_seconds, reconcile_records_total, reconcile_key_failures_total. */
  registry?: Registry;
}

/** What one poll did. */
export interface PollReport extends CheckReport { positions: number; keys: number; failedKeys: number; busyKeys: number; paperClosed: number }

interface KeyGroup { venue: string; apiKey: string; secret: string; held: HeldPosition[] }

export class FuturesReconciler {
  readonly store: ReconcileStore;
  private readonly accounts: FuturesAccounts;
  private readonly metrics: ReconcileMetrics | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** When each position's resting orders were last verified (reconcile-check.ts); positions no longer held are dropped. */
  private readonly orderChecks = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps, private readonly opts: ReconcilerOptions) {
    this.store = new ReconcileStore(deps.pool);
    this.metrics = deps.registry && new ReconcileMetrics(deps.registry);
    this.accounts = new FuturesAccounts({
      exchangeUrls: opts.exchangeUrls, timeoutMs: opts.exchangeTimeoutMs, recvWindowMs: opts.recvWindowMs, budget: deps.budget,
      traffic: 'prices', maxWaitMs: opts.budgetWaitMs ?? 0,
    });
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.opts.intervalMs);
  }

  /** Idempotent: no new poll starts; waits for the one running. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => {});
    await this.accounts.close();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.running = this.poll()
        .then((report) => this.metrics?.poll((Date.now() - started) / 1000, report))
        .catch((err) => this.deps.log.error({ err }, 'futures reconciliation poll failed; trying again next period'))
        .finally(() => this.schedule(Math.max(0, this.opts.intervalMs - (Date.now() - started))));
    }, ms);
    this.timer.unref?.();
  }

  /**
   * One poll: the positions due (not checked within 80 % of the period, so a poll that starts a little early
   * still takes them), by key. `dueMs` overrides the period (tests: 0 = every position now).
   */
  async poll(dueMs = Math.floor(this.opts.intervalMs * 0.8)): Promise<PollReport> {
    const held = await this.store.claimDue(dueMs);
    if (this.orderChecks.size > 4 * held.length + 10_000) this.orderChecks.clear();
    const groups = this.group(held);
    const paper = await this.store.claimDue(dueMs, true);
    const report: PollReport = { positions: held.length + paper.length, keys: groups.length, failedKeys: 0, busyKeys: 0, ok: 0, closed: 0, reduced: 0, mismatches: 0, paperClosed: 0 };
    if (paper.length) report.paperClosed = await firePaperLevels({ store: this.store, accounts: this.accounts, log: this.deps.log }, paper);
    let next = 0;
    const worker = async () => {
      while (next < groups.length && !this.stopped) {
        const g = groups[next++]!;
        try {
          const r = await this.checkGroup(g);
          report.ok += r.ok; report.closed += r.closed; report.reduced += r.reduced; report.mismatches += r.mismatches;
        } catch (err) {
          if (err instanceof ExchangeBusy) { report.busyKeys += 1; continue; }
          report.failedKeys += 1;
          const subscriptionIds = [...new Set(g.held.map((p) => p.subscriptionId))];
          // The venue refused the key: as after a refused order, its subscriptions stop (and are not polled) until new keys are stored.
          if (err instanceof ExchangeError && err.kind === 'auth') for (const id of subscriptionIds) await this.deps.keys.markKeysInvalid(id).catch(() => {});
          this.deps.log.warn({ err: (err as Error)?.message, exchange: g.venue, subscriptionIds }, 'futures reconciliation of a key failed; checked again next period');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(groups.length, this.opts.keysInParallel ?? 8) }, worker));
    return report;
  }

  /** Positions by venue and opened API key; positions whose keys this process cannot open are left out. */
  private group(held: HeldPosition[]): KeyGroup[] {
    const groups = new Map<string, KeyGroup>();
    const unreadable = new Set<string>();
    for (const p of held) {
      let keys: { apiKey: string; secret: string };
      try {
        keys = this.deps.keys.openKeys(p);
      } catch {
        unreadable.add(p.subscriptionId);
        continue;
      }
      const id = `${p.exchange}\u0000${keys.apiKey}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { venue: p.exchange, apiKey: keys.apiKey, secret: keys.secret, held: [] }));
      g.held.push(p);
    }
    if (unreadable.size) this.deps.log.error({ subscriptionIds: [...unreadable] }, 'futures reconciliation: stored API keys cannot be decrypted here (KEY_ENCRYPTION_KEY)');
    return [...groups.values()];
  }

  private async checkGroup(g: KeyGroup): Promise<CheckReport> {
    await this.accounts.ensureMarkets(g.venue);
    const account = this.accounts.forKey(g.venue, g.apiKey, g.secret);
    const scope = keyScope(g.venue, g.apiKey);
    const rps = perKeyRate(this.accounts.minIntervalMs(g.venue));
    const call = async <T>(f: () => Promise<T>): Promise<T> => {
      await this.deps.throttle.acquire(scope, rps);
      return f();
    };
    return checkKey({ account, held: g.held, store: this.store, call, log: this.deps.log, orderChecks: this.orderChecks });
  }
}
