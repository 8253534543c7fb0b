/**
 * SignalCoordinator: the one entry point for every signal source (capture, webhook, api, monitor).
 * accept(): validate → lock the strategy row → deduplicate → check the trade state → take the next
 * seq → insert signal + trade change in one transaction → publish `signal.accepted` (signal + trade).
 * It does not know its consumers: each follows the log with a SignalLogFollower (woken by the bus,
 * caught up from PostgreSQL by seq), so a lost bus message never loses a signal.
 *
 * Group commit: every signal takes the system-wide seq counter's row lock until its commit, so signals
 * are serialised, one fsync each. Signals that arrive while a transaction is in flight therefore queue
 * here and go together in the next one (one lock round, one fsync), decided one by one in arrival order
 * against the state read under the locks plus the batch's earlier signals. A burst of alerts at a candle
 * close is answered in a few transactions instead of hundreds in a row. If a batch fails as a whole (a
 * database error), each of its signals is retried alone, so one bad signal only fails itself.
 *
 * Pairs and prices: an OPEN must be on one of the strategy's declared pairs (400
 * PAIR_NOT_IN_STRATEGY) or, for a strategy without declared pairs, on a pair the reference exchange lists
 * (400 PAIR_NOT_LISTED, when the list is known). Every signal's price is compared with the reference
 * market's last price read from memory (the price feed; never a network call on this path): more than
 * `priceBandPercent` away → 409 PRICE_OUT_OF_BAND naming both. With no fresh price at hand the signal is
 * accepted with marketPrice null ("price not verified") and the feed is asked to price the pair.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Bus } from '../bus/index.js';
import { TOPICS } from '../bus/index.js';
import { AppError, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { signalHash } from './repository.js';
import { toActiveTrade, toCompletedTrade, toSignal } from './rows.js';
import { closeStatement, commitBatch, lockAndRead, openStatement, type ItemState, type RawSignal, type SignalRowInput } from './sql.js';
import type { ReferenceMarket } from './reference.js';
import { checkLevels } from './validation.js';
import { pnlPct, type Action, type Direction, type Signal, type SignalAcceptedEvent, type SignalEffect, type SignalInput, type Source } from './types.js';

export interface CoordinatorMetrics {
  accepted(source: Source): void;
  duplicate(source: Source): void;
  rejected(source: Source, code: string): void;
  latency(source: Source, seconds: number): void;
  /** Signals decided in one transaction. */
  batch?(signals: number): void;
}

export interface AcceptOptions {
  /** Create the strategy if it does not exist yet (trusted sources only). */
  autoCreate?: { name: string; webhookSecretHash?: string };
  /**
   * CLOSE only: close the open trade only if it is this trade (checked under the strategy lock);
   * otherwise 409 NO_OPEN_TRADE. Lets the trade monitor never close a newer trade on the same pair.
   */
  expectTradeId?: string;
  /**
   * Source `monitor` only: the price feed's observation that triggered this CLOSE (its price is the
   * level, by design away from the market), stored as marketPrice without a band check.
   */
  marketPrice?: number;
}

export interface AcceptResult { signal: Signal; duplicate: boolean }


/** An error PostgreSQL raised for a statement, as opposed to connection trouble or an unavailable server. */
function isStatementError(err: unknown): boolean {
  return err instanceof pg.DatabaseError && !/^(08|53|57)/.test(err.code ?? '');
}

/** Signals per transaction at most. */
const MAX_BATCH = 64;

interface Pending {
  input: SignalInput;
  source: Source;
  opts: AcceptOptions;
  resolve(r: { effect: SignalEffect; duplicate: boolean }): void;
  reject(err: unknown): void;
}

/** A batch member's fate once decided under the locks. */
type Decision =
  | { kind: 'accept'; row: SignalRowInput; statement: string; index: number }
  | { kind: 'duplicate'; of: Original }
  | { kind: 'refuse'; error: unknown };

/** An original a repeat delivery is answered with: a committed signal, or one accepted earlier in the batch. */
type Original = RawSignal | { pending: Decision & { kind: 'accept' } };

/**
 * The per-(strategy, pair) state while a batch is decided: the database's, then updated by each signal the
 * batch accepts. `last` is the pair's latest signal (for the dedup window), `open` its open trade.
 */
interface PairState {
  last: { action: Action; direction: Direction; at: number; of: Original } | null;
  open: { id: string; direction: Direction; entryPrice: number } | null;
}

export class SignalCoordinator {
  private queue: Pending[] = [];
  private busy = false;

  constructor(private readonly deps: {
    /** The database pool (the accept transaction runs in raw SQL on one of its clients). */
    pool: pg.Pool;
    bus: Bus;
    log: Logger;
    dedupWindowMs: number;
    metrics?: CoordinatorMetrics;
    /** The reference market's prices and market list (absent: every price unverified, any pair). */
    reference?: ReferenceMarket;
    /** Largest distance of a signal's price from the reference price, in percent (PRICE_BAND_PERCENT). */
    priceBandPercent?: number;
  }) {}

  /** Accepts one signal. Throws AppError 400/404/409; a repeat delivery returns the original. */
  async accept(input: SignalInput, source: Source, opts: AcceptOptions = {}): Promise<AcceptResult> {
    const started = process.hrtime.bigint();
    const m = this.deps.metrics;
    try {
      checkLevels(input);
      const { effect, duplicate } = await new Promise<{ effect: SignalEffect; duplicate: boolean }>((resolve, reject) => {
        this.queue.push({ input, source, opts, resolve, reject });
        this.pump();
      });
      if (duplicate) {
        m?.duplicate(source);
        return { signal: effect.signal, duplicate: true };
      }
      await this.afterCommit(effect);
      m?.accepted(source);
      m?.latency(source, Number(process.hrtime.bigint() - started) / 1e9);
      this.deps.log.info({ signalId: effect.signal.id, seq: effect.signal.seq, strategyId: input.strategyId, pair: input.pair, action: input.action, source }, 'signal accepted');
      return { signal: effect.signal, duplicate: false };
    } catch (err) {
      m?.rejected(source, err instanceof AppError ? err.code : 'INTERNAL');
      throw err;
    }
  }

  private async afterCommit(effect: SignalEffect): Promise<void> {
    // The database row is the truth. Every consumer (JSON store, WebSocket, executor, monitor), in this
    // process or another, follows the log through a SignalLogFollower: this message carries the signal and
    // its trade, so a follower that is up to date applies it without reading PostgreSQL. The answer does not
    // wait for any of them; a lost message is caught up from PostgreSQL by seq.
    const message: SignalAcceptedEvent = effect;
    await this.deps.bus.publish(TOPICS.signalAccepted, message)
      .catch((err) => this.deps.log.error({ err, seq: effect.signal.seq }, 'publishing signal.accepted failed; consumers catch up by seq'));
  }

  /** One transaction at a time per process; whatever queued meanwhile goes in the next one. */
  private pump(): void {
    if (this.busy || !this.queue.length) return;
    this.busy = true;
    void this.drain().finally(() => { this.busy = false; this.pump(); });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      // A signal that may create its strategy goes alone (its refusal must roll the creation back).
      let n = 1;
      if (!this.queue[0]!.opts.autoCreate) while (n < MAX_BATCH && n < this.queue.length && !this.queue[n]!.opts.autoCreate) n++;
      await this.run(this.queue.splice(0, n));
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    this.deps.metrics?.batch?.(batch.length);
    let outcomes: ({ ok: true; value: { effect: SignalEffect; duplicate: boolean } } | { ok: false; error: unknown })[];
    try {
      outcomes = await this.write(batch);
    } catch (err) {
      // A statement that failed (bad data, a constraint) may be one signal's fault: retry them alone. A lost
      // connection or an unavailable database fails them all alike, so they are not retried one by one.
      if (batch.length === 1 || !isStatementError(err)) { for (const p of batch) p.reject(err); return; }
      this.deps.log.warn({ err, signals: batch.length }, 'accept batch failed; retrying its signals one by one');
      for (const p of batch) await this.run([p]);
      return;
    }
    outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
  }

  /**
   * The batch's transaction in two round trips: `BEGIN; lock; read` and, if anything is accepted,
   * `inserts; seq; COMMIT` (see sql.ts). Nothing accepted (repeats, refusals) rolls back: no seq taken.
   */
  private async write(batch: Pending[]) {
    const c = await this.deps.pool.connect();
    try {
      const auto = batch.length === 1 ? batch[0]!.opts.autoCreate : undefined;
      const read = await lockAndRead(c, batch.map((p) => ({ strategyId: p.input.strategyId, pair: p.input.pair, key: p.input.idempotencyKey ?? null })),
        auto && { id: batch[0]!.input.strategyId, name: auto.name, webhookSecretHash: auto.webhookSecretHash ?? null });
      const decisions = this.decide(batch, read);
      const accepted = decisions.filter((d): d is Decision & { kind: 'accept' } => d.kind === 'accept');
      const rows = accepted.length ? await commitBatch(c, accepted.map((d) => d.statement), accepted.at(-1)!.row.seq) : (await c.query('ROLLBACK'), []);
      if (read.created && accepted.length) this.deps.log.info({ strategyId: batch[0]!.input.strategyId }, 'strategy auto-created');
      const effects = rows.map((r, i): SignalEffect => (accepted[i]!.row.action === 'OPEN'
        ? { signal: toSignal(r.signal), opened: toActiveTrade(r.trade) }
        : { signal: toSignal(r.signal), closed: toCompletedTrade(r.trade) }));
      return decisions.map((d) => {
        if (d.kind === 'refuse') return { ok: false as const, error: d.error };
        if (d.kind === 'accept') return { ok: true as const, value: { effect: effects[d.index]!, duplicate: false } };
        const original = 'pending' in d.of ? effects[d.of.pending.index]!.signal : toSignal(d.of);
        return { ok: true as const, value: { effect: { signal: original }, duplicate: true } };
      });
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Decides each signal in arrival order against the locked state and the batch's earlier signals. */
  private decide(batch: Pending[], read: { seq: number; items: ItemState[] }): Decision[] {
    const strategies = new Map<string, { lastSignalHash: string | null; maxLagSeconds: number; pairs: string[] }>();
    const pairs = new Map<string, PairState>();
    const keys = new Map<string, Original>();
    for (const it of read.items) {
      strategies.set(it.strategyId, { lastSignalHash: it.lastSignalHash, maxLagSeconds: it.maxLagSeconds, pairs: it.pairs ?? [] });
      pairs.set(`${it.strategyId}|${it.pair}`, {
        last: it.last && { action: it.last.action, direction: it.last.direction, at: Date.parse(toSignal(it.last).createdAt), of: it.last },
        open: it.open && { id: it.open.id, direction: it.open.direction, entryPrice: Number(it.open.entryPrice) },
      });
      if (it.key !== null && it.byKey) keys.set(`${it.strategyId}|${it.key}`, it.byKey);
    }
    let seq = read.seq;
    let index = 0;
    return batch.map(({ input, source, opts }): Decision => {
      try {
        const strategy = strategies.get(input.strategyId);
        if (!strategy) throw notFound('strategy');
        if (input.timestamp !== undefined && Date.now() - input.timestamp > strategy.maxLagSeconds * 1000) {
          throw new AppError('SIGNAL_STALE', `signal timestamp is older than the strategy's maxLagSeconds (${strategy.maxLagSeconds}s)`, 409);
        }
        const state = pairs.get(`${input.strategyId}|${input.pair}`)!;
        // A CLOSE of an open trade is always allowed: the pair was accepted when it opened, and a trade must
        // stay closable after the author edits the pairs or the exchange delists the market.
        if (!(input.action === 'CLOSE' && state.open)) this.checkPair(input.pair, strategy.pairs);
        const byKey = input.idempotencyKey !== undefined ? keys.get(`${input.strategyId}|${input.idempotencyKey}`) : undefined;
        if (byKey) return { kind: 'duplicate', of: byKey };
        const repeat = this.findRepeat(input, state);
        if (repeat) return { kind: 'duplicate', of: repeat };
        const open = state.open;
        const direction = this.checkTradeState(input, open?.direction);
        if (input.action === 'CLOSE' && opts.expectTradeId && open?.id !== opts.expectTradeId) {
          throw new AppError('NO_OPEN_TRADE', `trade ${opts.expectTradeId} is no longer open on ${input.pair}`, 409);
        }
        const marketPrice = this.marketPrice(input, source, opts);
        const row: SignalRowInput = {
          id: randomUUID(), seq: ++seq, strategyId: input.strategyId, pair: input.pair, action: input.action, direction, price: input.price, marketPrice,
          stopLoss: input.stopLoss ?? null, takeProfit: input.takeProfit ?? null, note: input.note ?? null, source,
          idempotencyKey: input.idempotencyKey ?? null, evidence: input.evidence ?? null, reason: input.reason ?? null,
          prevHash: strategy.lastSignalHash, hash: '', createdAt: new Date(),
        };
        row.hash = signalHash(row, strategy.lastSignalHash);
        let statement: string;
        if (input.action === 'OPEN') {
          const tradeId = randomUUID();
          statement = openStatement(row, tradeId);
          state.open = { id: tradeId, direction, entryPrice: input.price };
        } else {
          statement = closeStatement(row, open!.id, pnlPct(direction, open!.entryPrice, input.price), input.reason ?? 'SIGNAL');
          state.open = null;
        }
        const d = { kind: 'accept' as const, row, statement, index: index++ };
        strategy.lastSignalHash = row.hash;
        state.last = { action: row.action, direction, at: row.createdAt.getTime(), of: { pending: d } };
        if (row.idempotencyKey !== null) keys.set(`${input.strategyId}|${row.idempotencyKey}`, { pending: d });
        return d;
      } catch (error) {
        return { kind: 'refuse', error };
      }
    });
  }

  /**
   * Declared pairs are the only ones a strategy trades; without declared pairs, any pair the reference
   * exchange lists (unchecked while the list is not known, e.g. offline).
   */
  private checkPair(pair: string, declared: string[]): void {
    if (declared.length) {
      if (!declared.includes(pair)) throw new AppError('PAIR_NOT_IN_STRATEGY', `${pair} is not one of the strategy's pairs (${declared.join(', ')})`, 400, { details: { pair, pairs: declared } });
      return;
    }
    const ref = this.deps.reference;
    const list = ref?.markets();
    if (ref && list && !list.has(pair)) {
      ref.noteUnlisted(pair);
      throw new AppError('PAIR_NOT_LISTED', `${ref.exchange} lists no spot market ${pair}`, 400, { details: { pair, exchange: ref.exchange } });
    }
  }

  /**
   * The reference price stored with the signal, after the band check. Null (accepted, "price not verified")
   * when no fresh price is at hand; the feed is then asked to price the pair for the next signal.
   */
  private marketPrice(input: SignalInput, source: Source, opts: AcceptOptions): number | null {
    const ref = this.deps.reference;
    if (source === 'monitor') return opts.marketPrice ?? ref?.price(input.pair)?.last ?? null;
    if (!ref) return null;
    const p = ref.price(input.pair);
    if (!p) { ref.noteInterest(input.pair); return null; }
    const band = this.deps.priceBandPercent ?? 3;
    const off = (Math.abs(input.price - p.last) / p.last) * 100;
    // An exit is never blocked: a CLOSE outside the band (a fast market, a feed up to PRICE_MAX_AGE_MS old)
    // is accepted, so subscribers are not left in the position; the track record uses the market price anyway.
    if (off > band && input.action === 'CLOSE') {
      this.deps.log.warn({ strategyId: input.strategyId, pair: input.pair, price: input.price, marketPrice: p.last, offPercent: Number(off.toFixed(2)) }, 'CLOSE outside the price band accepted (exits are never blocked)');
      return p.last;
    }
    if (off > band) {
      throw new AppError('PRICE_OUT_OF_BAND',
        `price ${input.price} is ${off.toFixed(2)}% away from ${ref.exchange}'s last price ${p.last} for ${input.pair} (at most ${band}% allowed)`,
        409, { details: { price: input.price, marketPrice: p.last, bandPercent: band, exchange: ref.exchange, marketPriceAt: new Date(p.at).toISOString() } });
    }
    return p.last;
  }

  /** The original of a repeat delivery: same pair/action/direction within the dedup window. */
  private findRepeat(input: SignalInput, state: PairState): Original | null {
    const last = state.last;
    if (!last || last.action !== input.action) return null;
    if (input.direction && last.direction !== input.direction) return null;
    return Date.now() - last.at < this.deps.dedupWindowMs ? last.of : null;
  }

  /** OPEN needs a flat pair; CLOSE needs an open trade (in the given direction). Returns the direction. */
  private checkTradeState(input: SignalInput, openDirection: Direction | undefined): Direction {
    if (input.action === 'OPEN') {
      if (openDirection && openDirection !== input.direction) {
        throw new AppError('TRADE_CONFLICT', `strategy already holds an open ${openDirection} trade on ${input.pair}; CLOSE it first`, 409);
      }
      if (openDirection) throw new AppError('TRADE_ALREADY_OPEN', `strategy already holds an open ${openDirection} trade on ${input.pair}`, 409);
      return input.direction!;
    }
    if (!openDirection || (input.direction && input.direction !== openDirection)) {
      throw new AppError('NO_OPEN_TRADE', `no open ${input.direction ?? ''} trade on ${input.pair} to close`.replace('  ', ' '), 409);
    }
    return openDirection;
  }
}
