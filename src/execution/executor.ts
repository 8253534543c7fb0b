/**
 * SubscriptionExecutor (Component "executor"): turns accepted signals into orders.
 * Loop ("pump"): advance the intent cursor (signal log → PENDING rows) → per exchange, claim as many
 * ready rows as that exchange has free slots → run each → finish / retry later / fail.
 * Woken by new signals (a SignalLogFollower: `signal.accepted` on the bus from any process, gaps read by
 * seq), by finished jobs, and by a poll (retries, expired leases, and the safety net for the intent cursor:
 * the bus is at-most-once). The follower only wakes the pump: the cursor that counts is ExecutorCursor,
 * advanced under its row lock by whichever process gets it (intents.ts). Leases are renewed by a heartbeat; a crashed process's rows return after the lease.
 * A slow or failing exchange only fills its own slots, so it delays nobody on another exchange.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Bus } from '../bus/index.js';
import { ExchangeClients, ExchangeError, FuturesAccounts, type KeyThrottle, type VenueBudget } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import { SignalLog, SignalLogFollower } from '../signals/index.js';
import type { SubscriptionKeys } from '../subscriptions/index.js';
import { IntentWriter } from './intents.js';
import { JobStore } from './job-store.js';
import type { ExecutorMetrics } from './metrics.js';
import { FuturesRunner } from './futures-runner.js';
import { JobRunner, type RunTiming } from './runner.js';
import { VenuePrices, type VenuePriceOptions } from './venue-price.js';
import { KeysNotReadable, LeaseLost, unclearFailures, type Job, type Outcome } from './types.js';

/** Rows claimed per statement (a pass claims several times to fill every free slot). */
const CLAIM_BATCH = 16;
/** A venue quote this young (ms) is reused by the jobs of one signal: one ticker request, not one per subscriber. */
const PRICE_MAX_AGE_MS = 1000;
/** Paper mode: the longest a job waits for the venue's price, and how long a failed lookup is remembered. */
const PAPER_PRICE_WAIT_MS = 3000;
const PAPER_PRICE_FAILURE_MEMORY_MS = 30_000;

export interface ExecutorOptions {
  mode: 'paper' | 'live';
  exchangeUrls: Readonly<Record<string, string>>;
  concurrencyPerExchange: number;
  leaseMs: number;
  maxAttempts: number;
  pollMs: number;
  retryBaseMs: number;
  /** Stop-limit protective sells: limit this many percent below the trigger (default 0.5). */
  stopLimitOffsetPercent?: number;
  exchangeTimeoutMs: number;
  recvWindowMs: number;
  paperBalance: number;
}

export interface ExecutorDeps {
  pool: pg.Pool;
  bus: Bus;
  /** The subscriptions module's key access: opens sealed keys, marks refused ones. */
  keys: SubscriptionKeys;
  throttle: KeyThrottle;
  /** The app's per-venue request budget; the executor's calls are its 'order' traffic. */
  budget?: VenueBudget;
  log: Logger;
  metrics: (lag: () => Promise<{ pending: number; lagSeconds: number }>) => ExecutorMetrics;
}

export class SubscriptionExecutor {
  readonly workerId = `exec-${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly store: JobStore;
  readonly intents: IntentWriter;
  readonly metrics: ExecutorMetrics;
  private readonly runner: JobRunner;
  /** Jobs of futures subscriptions (futures-runner.ts); everything else goes to the spot runner. */
  private readonly futures: FuturesRunner;
  private readonly inflight = new Map<string, Job>();
  private readonly perExchange = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private readonly signals: SignalLogFollower;
  private pumping = false;
  private again = false;
  private advanceWanted = true;
  /** Exchanges to claim from on the next pass without asking the database which have ready rows. */
  private readonly wanted = new Set<string>();
  private stopped = false;

  constructor(private readonly deps: ExecutorDeps, private readonly opts: ExecutorOptions) {
    this.store = new JobStore(deps.pool, this.workerId, opts.leaseMs, opts.mode === 'paper');
    this.intents = new IntentWriter(deps.pool);
    const signalLog = new SignalLog(deps.pool);
    // No poll of its own: the pump's poll below advances the intent cursor every pollMs anyway.
    this.signals = new SignalLogFollower({
      name: 'executor', signalLog, bus: deps.bus, log: deps.log, needs: 'signal', pollMs: 0,
      from: () => signalLog.headSeq(), handle: () => this.kick(true),
    });
    this.metrics = deps.metrics(() => this.store.lag());
    const clients = new ExchangeClients({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.exchangeTimeoutMs, recvWindowMs: opts.recvWindowMs, budget: deps.budget, traffic: 'order' });
    // Live: a failed lookup fails (and retries) the job; trading blind is never the answer. Paper: the
    // offline quick start must not make every job wait for a network timeout.
    const priceOpts = opts.mode === 'paper'
      ? { maxAgeMs: PRICE_MAX_AGE_MS, waitMs: PAPER_PRICE_WAIT_MS, failureMemoryMs: PAPER_PRICE_FAILURE_MEMORY_MS }
      : { maxAgeMs: PRICE_MAX_AGE_MS, failureMemoryMs: 0 };
    const prices = new VenuePrices((exchange, symbol) => clients.ticker(exchange, symbol), priceOpts);
    this.runner = new JobRunner({
      pool: deps.pool, keys: deps.keys, clients, prices, throttle: deps.throttle, store: this.store, mode: opts.mode,
      paperBalance: opts.paperBalance, recvWindowMs: opts.recvWindowMs, maxAttempts: opts.maxAttempts, stopLimitOffsetPercent: opts.stopLimitOffsetPercent,
    });
    this.futures = this.futuresRunner(priceOpts);
  }

  /** The futures runner: one ccxt instance per venue for every key, mark prices shared like the spot tickers. */
  private futuresRunner(priceOpts: VenuePriceOptions): FuturesRunner {
    const { opts, deps } = this;
    const accounts = new FuturesAccounts({
      exchangeUrls: opts.exchangeUrls, timeoutMs: opts.exchangeTimeoutMs, recvWindowMs: opts.recvWindowMs, budget: deps.budget, traffic: 'order',
      maxWaitMs: Math.floor(opts.recvWindowMs / 2),
    });
    const mark = async (venue: string, symbol: string) => {
      await accounts.ensureMarkets(venue);
      const price = await accounts.forKey(venue, '', '').market.markPrice(symbol);
      return { symbol, bid: price, ask: price, last: price, at: Date.now() };
    };
    const prices = new VenuePrices(mark, priceOpts);
    return new FuturesRunner({
      keys: deps.keys, accounts, prices, throttle: deps.throttle, store: this.store, mode: opts.mode, paperBalance: opts.paperBalance,
      recvWindowMs: opts.recvWindowMs, maxAttempts: opts.maxAttempts,
    });
  }

  async start(): Promise<void> {
    await this.intents.init();
    await this.signals.start();
    this.timers.push(setInterval(() => this.kick(true), this.opts.pollMs));
    this.timers.push(setInterval(() => void this.heartbeat(), Math.max(200, Math.floor(this.opts.leaseMs / 3))));
    this.deps.log.info({ workerId: this.workerId, mode: this.opts.mode }, 'executor started');
    this.kick(true);
  }

  /** Idempotent: stops claiming, waits (bounded) for running jobs; unfinished rows return after their lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.signals.stop();
    const deadline = Date.now() + 10_000;
    while ((this.inflight.size || this.pumping) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Health: lag of the oldest ready row and signals not yet turned into intents. */
  async health() {
    const [{ pending, lagSeconds }, behind] = await Promise.all([this.store.lag(), this.intents.behind()]);
    return { ok: lagSeconds < 120 && behind < 1000, lagSeconds, pending, signalsBehind: behind, inflight: this.inflight.size, mode: this.opts.mode };
  }

  /**
   * Runs the pump now, or once more after the current pass. `advance`: also turn new signals into
   * intents and look for every exchange with ready rows; else only claim for `exchange` (a job of it
   * just finished, which is what can unblock its next rows).
   */
  kick(advance: boolean, exchange?: string): void {
    if (this.stopped) return;
    if (advance) this.advanceWanted = true;
    if (exchange) this.wanted.add(exchange);
    if (this.pumping) { this.again = true; return; }
    this.pumping = true;
    void this.pump().finally(() => { this.pumping = false; });
  }

  private async pump(): Promise<void> {
    do {
      this.again = false;
      try {
        const scan = this.advanceWanted;
        if (scan) { this.advanceWanted = false; while ((await this.intents.advance()).signals > 0 && !this.stopped); }
        await this.fill(scan);
      } catch (err) {
        this.deps.log.error({ err }, 'executor pump failed; retrying on the next poll');
      }
    } while (this.again && !this.stopped);
  }

  private async fill(scan: boolean): Promise<void> {
    const exchanges = new Set(this.wanted);
    this.wanted.clear();
    if (scan) for (const x of await this.store.readyExchanges()) exchanges.add(x);
    for (const exchange of exchanges) {
      // At most CLAIM_BATCH jobs start in one synchronous burst: the jobs started first would otherwise
      // wait for every other job's start (key decryption, client set-up) before reaching the exchange.
      for (;;) {
        const free = this.opts.concurrencyPerExchange - (this.perExchange.get(exchange) ?? 0);
        if (free <= 0 || this.stopped) break;
        const want = Math.min(free, CLAIM_BATCH);
        const jobs = await this.store.claim(exchange, want);
        for (const job of jobs) this.dispatch(job);
        if (jobs.length < want) break;
      }
    }
  }

  private dispatch(job: Job): void {
    this.inflight.set(job.id, job);
    this.perExchange.set(job.exchange, (this.perExchange.get(job.exchange) ?? 0) + 1);
    void this.execute(job).finally(() => {
      this.inflight.delete(job.id);
      this.perExchange.set(job.exchange, (this.perExchange.get(job.exchange) ?? 1) - 1);
      this.kick(false, job.exchange);
    });
  }

  private async heartbeat(): Promise<void> {
    if (!this.inflight.size) return;
    const started = Date.now();
    try {
      const held = await this.store.renew([...this.inflight.keys()]);
      for (const job of this.inflight.values()) if (held.has(job.id)) job.leaseUntil = started + this.opts.leaseMs;
    } catch (err) {
      this.deps.log.warn({ err }, 'lease renewal failed');
    }
  }

  private async execute(job: Job): Promise<void> {
    const started = performance.now();
    const timing: RunTiming = { exchangeMs: 0 };
    let recordMs: number | undefined;
    const log = this.deps.log.child({ executionId: job.id, subscriptionId: job.subscriptionId, signalId: job.signalId, clientOrderId: job.clientOrderId, attempt: job.attempts });
    try {
      const outcome = await (job.data.sub?.market === 'futures' ? this.futures : this.runner).run(job, timing);
      const tRun = performance.now();
      await this.finish(job, outcome, log);
      recordMs = performance.now() - tRun;
    } catch (err) {
      if (err instanceof LeaseLost) { log.warn('lease lost before sending: leaving the row to its next owner'); return; }
      if (err instanceof KeysNotReadable) { await this.notReadableHere(job, log).catch(() => {}); return; }
      await this.onError(job, err, log).catch((e) => log.error({ err: e }, 'recording the failure failed; the row returns after its lease'));
    } finally {
      const total = performance.now() - started;
      this.metrics.exchangeSeconds.observe({ exchange: job.exchange }, timing.exchangeMs / 1000);
      this.metrics.overhead(Math.max(0, total - timing.exchangeMs), { preSendMs: timing.firstCallAt === undefined ? undefined : timing.firstCallAt - started, recordMs });
    }
  }

  private async finish(job: Job, o: Outcome, log: Logger): Promise<void> {
    if (!(await this.store.finish(job, o))) { log.warn('lease lost before recording: the next owner looks the order up'); return; }
    this.metrics.orders.inc({ status: o.status, exchange: job.exchange, mode: this.opts.mode });
    this.metrics.signalToFinalSeconds.observe({ exchange: job.exchange }, (Date.now() - job.claimedAt) / 1000);
    log.info({ status: o.status, orderId: o.orderId, side: o.side, amount: o.amount, price: o.price, reason: o.error }, 'execution finished');
  }

  /**
   * A process whose KEY_ENCRYPTION_KEY cannot read the keys hands the row back for another process
   * (a rotation in progress, a misconfigured instance); after 20 such hand-backs the row is FAILED.
   */
  private async notReadableHere(job: Job, log: Logger): Promise<void> {
    const h = (job.legs.history ??= []);
    const times = h.filter((x) => x.outcome === 'keys not readable here').length + 1;
    if (times >= 20) return this.finish(job, { status: job.legs.entry ? 'PARTIAL' : 'FAILED', error: 'KEY_DECRYPT_FAILED: stored API keys cannot be decrypted with the configured keys' }, log);
    h.push({ at: new Date().toISOString(), attempt: job.attempts, outcome: 'keys not readable here' });
    await this.store.retryLater(job, 1000, 'KEYS_NOT_READABLE_HERE: handed back for another executor');
    log.error({ workerId: this.workerId }, 'cannot decrypt stored API keys: check KEY_ENCRYPTION_KEY / KEY_ENCRYPTION_KEYS_PREVIOUS');
  }

  /** Auth → keys invalid, stop; rejected → FAILED; unclear → retry later (looked up first) until maxAttempts. */
  private async onError(job: Job, err: unknown, log: Logger): Promise<void> {
    const ex = err instanceof ExchangeError ? err : undefined;
    const message = (err as Error)?.message ?? String(err);
    const base = job.legs.entry ? 'PARTIAL' as const : 'FAILED' as const;
    const response = ex ? { error: message, ccxt: ex.ccxtClass, response: ex.response } : { error: message };
    if (ex?.kind === 'auth') {
      await this.runner.markKeysInvalid(job.subscriptionId);
      return this.finish(job, { status: base, error: `KEYS_INVALID: ${message}`, response }, log);
    }
    if (ex && ex.kind !== 'temporary') return this.finish(job, { status: base, error: `${ex.code}: ${message}`, response }, log);
    const failures = unclearFailures(job);
    if (failures >= this.opts.maxAttempts) return this.finish(job, { status: base, error: `GAVE_UP after ${failures} unclear failures: ${message}`, response }, log);
    // The retry waits at least recvWindow, so a request still in flight can no longer be accepted when we look it up.
    const delay = Math.max(this.opts.retryBaseMs * 2 ** (failures - 1), this.opts.recvWindowMs + 500);
    (job.legs.history ??= []).push({ at: new Date().toISOString(), attempt: job.attempts, outcome: 'retry later', error: message.slice(0, 500) });
    await this.store.retryLater(job, Math.min(delay, 300_000), `RETRYING: ${message}`);
    this.metrics.retries.inc({ exchange: job.exchange });
    log.warn({ err: message, ccxt: ex?.ccxtClass, delayMs: delay }, 'execution attempt unclear: will look the order up and retry');
  }
}
