/**
 * SignalCoordinator: the one entry point for every signal source (capture, webhook, api, monitor).
 * accept(): validate → lock the strategy row → deduplicate → check the trade state → take the next
 * seq → insert signal + trade change in one transaction → JSON store → publish `signal.accepted`.
 * It does not know its consumers: the distributor and the executor subscribe to the bus, and both
 * catch up from PostgreSQL by seq, so a lost bus message never loses a signal.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Bus } from '../bus/index.js';
import { TOPICS } from '../bus/index.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { signalHash } from './repository.js';
import { insertClose, insertOpen, insertStrategy, lockStrategy, rawToActive, rawToCompleted, rawToSignal, type LockedState } from './sql.js';
import { checkLevels } from './validation.js';
import { pnlPct, type Direction, type Signal, type SignalEffect, type SignalInput, type Source } from './types.js';

export interface EffectSink { apply(effect: SignalEffect): Promise<void> }

export interface CoordinatorMetrics {
  accepted(source: Source): void;
  duplicate(source: Source): void;
  rejected(source: Source, code: string): void;
  latency(source: Source, seconds: number): void;
}

export interface AcceptOptions {
  /** Create the strategy if it does not exist yet (trusted sources only). */
  autoCreate?: { name: string; webhookSecretHash?: string };
  /**
   * CLOSE only: close the open trade only if it is this trade (checked under the strategy lock);
   * otherwise 409 NO_OPEN_TRADE. Lets the trade monitor never close a newer trade on the same pair.
   */
  expectTradeId?: string;
}

export interface AcceptResult { signal: Signal; duplicate: boolean }


export class SignalCoordinator {
  constructor(private readonly deps: {
    /** The database pool (the accept transaction runs in raw SQL on one of its clients). */
    pool: pg.Pool;
    bus: Bus;
    log: Logger;
    dedupWindowMs: number;
    store?: EffectSink;
    metrics?: CoordinatorMetrics;
  }) {}

  /** Accepts one signal. Throws AppError 400/404/409; a repeat delivery returns the original. */
  async accept(input: SignalInput, source: Source, opts: AcceptOptions = {}): Promise<AcceptResult> {
    const started = process.hrtime.bigint();
    const m = this.deps.metrics;
    try {
      checkLevels(input);
      const { effect, duplicate } = await this.write(input, source, opts);
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
    // The database row is the truth. The JSON store takes the change now (in memory, in seq order) and
    // writes it in its next coalesced flush, milliseconds later; the answer does not wait for that flush,
    // so a slow disk or a 3 MB active.json never slows ingestion. A failed write is logged and retried by
    // the next flush; after a crash the store catches up from the database on start.
    if (this.deps.store) {
      this.deps.store.apply(effect).catch((err) => this.deps.log.error({ err, seq: effect.signal.seq }, 'JSON store write failed; will catch up'));
    }
    await this.deps.bus.publish(TOPICS.signalAccepted, { signal: effect.signal })
      .catch((err) => this.deps.log.error({ err, seq: effect.signal.seq }, 'publishing signal.accepted failed; consumers catch up by seq'));
  }

  /**
   * The accept transaction, in two round trips: `BEGIN; lock; read` and, when accepted, `insert; COMMIT`
   * (see sql.ts). A repeat or a refusal rolls back, so it takes no seq.
   */
  private async write(input: SignalInput, source: Source, opts: AcceptOptions): Promise<{ effect: SignalEffect; duplicate: boolean }> {
    const c = await this.deps.pool.connect();
    try {
      const result = await this.writeIn(c, input, source, opts);
      if (result.duplicate) await c.query('ROLLBACK');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  private async writeIn(c: pg.PoolClient, input: SignalInput, source: Source, opts: AcceptOptions): Promise<{ effect: SignalEffect; duplicate: boolean }> {
    const strategy = await this.lock(c, input, opts);
    if (input.timestamp !== undefined && Date.now() - input.timestamp > strategy.maxLagSeconds * 1000) {
      throw new AppError('SIGNAL_STALE', `signal timestamp is older than the strategy's maxLagSeconds (${strategy.maxLagSeconds}s)`, 409);
    }
    const original = this.findDuplicate(input, strategy);
    if (original) return { effect: { signal: original }, duplicate: true };
    const direction = this.checkTradeState(input, strategy.open?.direction);
    if (input.action === 'CLOSE' && opts.expectTradeId && strategy.open?.id !== opts.expectTradeId) {
      throw new AppError('NO_OPEN_TRADE', `trade ${opts.expectTradeId} is no longer open on ${input.pair}`, 409);
    }

    const seq = strategy.seq;
    const row = {
      id: randomUUID(), seq, strategyId: input.strategyId, pair: input.pair, action: input.action, direction, price: input.price,
      stopLoss: input.stopLoss ?? null, takeProfit: input.takeProfit ?? null, note: input.note ?? null, source,
      idempotencyKey: input.idempotencyKey ?? null, evidence: input.evidence ?? null, reason: input.reason ?? null,
      prevHash: strategy.lastSignalHash, hash: '', createdAt: new Date(),
    };
    row.hash = signalHash(row, strategy.lastSignalHash);
    if (input.action === 'OPEN') {
      const r = await insertOpen(c, row);
      return { effect: { signal: rawToSignal(r.signal), opened: rawToActive(r.trade) }, duplicate: false };
    }
    const open = strategy.open!;
    const r = await insertClose(c, row, open.id, pnlPct(direction, Number(open.entryPrice), input.price), input.reason ?? 'SIGNAL');
    // Unreachable while the strategy lock serialises closes; if it ever happens, refuse rather than crash.
    if (!r.trade) throw new AppError('NO_OPEN_TRADE', `no open trade on ${input.pair} to close`, 409);
    return { effect: { signal: rawToSignal(r.signal), closed: rawToCompleted(r.trade) }, duplicate: false };
  }

  /**
   * Opens the transaction and row-locks the strategy (serialising its signals across processes);
   * auto-creates it when asked, in the same transaction as its first signal.
   */
  private async lock(c: pg.PoolClient, input: SignalInput, opts: AcceptOptions): Promise<LockedState> {
    const read = () => lockStrategy(c, input.strategyId, input.pair, input.idempotencyKey ?? null, { begin: true });
    let state = await read();
    if (!state && opts.autoCreate) {
      await c.query('ROLLBACK'); // undoes the seq increment of the read
      await c.query('BEGIN');
      await insertStrategy(c, input.strategyId, opts.autoCreate.name, opts.autoCreate.webhookSecretHash ?? null);
      state = await lockStrategy(c, input.strategyId, input.pair, input.idempotencyKey ?? null, { begin: false });
      this.deps.log.info({ strategyId: input.strategyId }, 'strategy auto-created');
    }
    if (!state) throw new AppError('STRATEGY_NOT_FOUND', 'strategy not found', 404);
    return state;
  }

  /** The original of a repeat delivery: same idempotencyKey, or same pair/action/direction within the window. */
  private findDuplicate(input: SignalInput, state: LockedState): Signal | null {
    if (state.byKey) return rawToSignal(state.byKey);
    const last = state.last;
    if (!last || last.action !== input.action) return null;
    if (input.direction && last.direction !== input.direction) return null;
    return Date.now() - Date.parse(rawToSignal(last).createdAt) < this.deps.dedupWindowMs ? rawToSignal(last) : null;
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
