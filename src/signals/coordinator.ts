/**
 * SignalCoordinator: the one entry point for every signal source (capture, webhook, api, monitor).
 * accept(): validate → lock the strategy row → deduplicate → check the trade state → take the next
 * seq → insert signal + trade change in one transaction → JSON store → publish `signal.accepted`.
 * It does not know its consumers: the distributor and the executor subscribe to the bus, and both
 * catch up from PostgreSQL by seq, so a lost bus message never loses a signal.
 */
import { randomUUID } from 'node:crypto';
import type { PrismaClient, Prisma } from '@prisma/client';
import type { Bus } from '../bus/index.js';
import { TOPICS } from '../bus/index.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { signalHash, toActiveTrade, toCompletedTrade, toSignal } from './repository.js';
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
}

export interface AcceptResult { signal: Signal; duplicate: boolean }

type Tx = Prisma.TransactionClient;
interface StrategyLock { id: string; lastSignalHash: string | null; maxLagSeconds: number }

export class SignalCoordinator {
  constructor(private readonly deps: {
    prisma: PrismaClient;
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
      const { effect, duplicate } = await this.deps.prisma.$transaction((tx) => this.write(tx, input, source, opts), { timeout: 10_000, maxWait: 10_000 });
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
    // The database row is the truth: a failing JSON write is logged and repaired by the store's catch-up.
    if (this.deps.store) {
      await this.deps.store.apply(effect).catch((err) => this.deps.log.error({ err, seq: effect.signal.seq }, 'JSON store write failed; will catch up'));
    }
    await this.deps.bus.publish(TOPICS.signalAccepted, { signal: effect.signal })
      .catch((err) => this.deps.log.error({ err, seq: effect.signal.seq }, 'publishing signal.accepted failed; consumers catch up by seq'));
  }

  private async write(tx: Tx, input: SignalInput, source: Source, opts: AcceptOptions): Promise<{ effect: SignalEffect; duplicate: boolean }> {
    const strategy = await this.lockStrategy(tx, input.strategyId, opts);
    if (input.timestamp !== undefined && Date.now() - input.timestamp > strategy.maxLagSeconds * 1000) {
      throw new AppError('SIGNAL_STALE', `signal timestamp is older than the strategy's maxLagSeconds (${strategy.maxLagSeconds}s)`, 409);
    }
    const original = await this.findDuplicate(tx, input);
    if (original) return { effect: { signal: toSignal(original) }, duplicate: true };

    const open = await tx.trade.findFirst({ where: { strategyId: input.strategyId, pair: input.pair, status: 'ACTIVE' } });
    const direction = this.checkTradeState(input, open?.direction);

    const [{ value }] = await tx.$queryRaw<{ value: bigint }[]>`UPDATE "SeqCounter" SET value = value + 1 WHERE id = 1 RETURNING value`;
    const id = randomUUID();
    const createdAt = new Date();
    const hash = signalHash({ id, strategyId: input.strategyId, seq: value, pair: input.pair, action: input.action, direction, price: input.price, stopLoss: input.stopLoss ?? null, takeProfit: input.takeProfit ?? null, source, createdAt }, strategy.lastSignalHash);
    const row = await tx.signal.create({
      data: {
        id, seq: value, strategyId: input.strategyId, pair: input.pair, action: input.action, direction,
        price: input.price, stopLoss: input.stopLoss, takeProfit: input.takeProfit, note: input.note,
        source, idempotencyKey: input.idempotencyKey, evidence: input.evidence, reason: input.reason,
        prevHash: strategy.lastSignalHash, hash, createdAt,
      },
    });
    await tx.strategy.update({ where: { id: input.strategyId }, data: { lastSignalHash: hash } });
    const signal = toSignal(row);
    if (input.action === 'OPEN') {
      const trade = await tx.trade.create({
        data: { strategyId: input.strategyId, pair: input.pair, direction, entryPrice: input.price, stopLoss: input.stopLoss, takeProfit: input.takeProfit, openSignalId: id, openSeq: value, openedAt: createdAt },
      });
      return { effect: { signal, opened: toActiveTrade(trade) }, duplicate: false };
    }
    const entry = Number(open!.entryPrice.toString());
    const trade = await tx.trade.update({
      where: { id: open!.id },
      data: { status: 'COMPLETED', exitPrice: input.price, closeSignalId: id, closeSeq: value, closedAt: createdAt, pnlPct: pnlPct(direction, entry, input.price), closeReason: input.reason ?? 'SIGNAL' },
    });
    return { effect: { signal, closed: toCompletedTrade(trade) }, duplicate: false };
  }

  /** Row-locks the strategy (serialising its signals across processes); auto-creates when asked. */
  private async lockStrategy(tx: Tx, strategyId: string, opts: AcceptOptions): Promise<StrategyLock> {
    const lock = () => tx.$queryRaw<StrategyLock[]>`SELECT id, "lastSignalHash", "maxLagSeconds" FROM "Strategy" WHERE id = ${strategyId}::uuid FOR UPDATE`;
    let [row] = await lock();
    if (!row && opts.autoCreate) {
      await tx.$executeRaw`INSERT INTO "Strategy" (id, name, "autoCreated", "webhookSecretHash") VALUES (${strategyId}::uuid, ${opts.autoCreate.name}, true, ${opts.autoCreate.webhookSecretHash ?? null}) ON CONFLICT (id) DO NOTHING`;
      [row] = await lock();
      this.deps.log.info({ strategyId }, 'strategy auto-created');
    }
    if (!row) throw new AppError('STRATEGY_NOT_FOUND', 'strategy not found', 404);
    return row;
  }

  /** The original of a repeat delivery: same idempotencyKey, or same pair/action/direction within the window. */
  private async findDuplicate(tx: Tx, input: SignalInput) {
    if (input.idempotencyKey) {
      const byKey = await tx.signal.findUnique({ where: { strategyId_idempotencyKey: { strategyId: input.strategyId, idempotencyKey: input.idempotencyKey } } });
      if (byKey) return byKey;
    }
    const last = await tx.signal.findFirst({ where: { strategyId: input.strategyId, pair: input.pair }, orderBy: { seq: 'desc' } });
    if (!last || last.action !== input.action) return null;
    if (input.direction && last.direction !== input.direction) return null;
    return Date.now() - last.createdAt.getTime() < this.deps.dedupWindowMs ? last : null;
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
