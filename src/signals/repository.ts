/**
 * Signal and trade rows ↔ domain objects, and the read queries the JSON store and REST need.
 * Decimals leave the database as numbers (prices fit a double comfortably).
 */
import { createHash } from 'node:crypto';
import type { PrismaClient, Prisma } from '@prisma/client';
import type { ActiveTrade, CompletedTrade, Signal, SignalEffect } from './types.js';

type Dec = Prisma.Decimal | null;
const num = (d: Dec) => (d === null ? null : Number(d.toString()));

export type SignalRow = Prisma.SignalGetPayload<object>;
export type TradeRow = Prisma.TradeGetPayload<object>;

export function toSignal(r: SignalRow): Signal {
  return {
    id: r.id, seq: Number(r.seq), strategyId: r.strategyId, pair: r.pair, action: r.action, direction: r.direction,
    price: num(r.price)!, marketPrice: num(r.marketPrice), stopLoss: num(r.stopLoss), takeProfit: num(r.takeProfit), note: r.note, source: r.source,
    idempotencyKey: r.idempotencyKey, evidence: r.evidence, reason: r.reason, prevHash: r.prevHash, hash: r.hash,
    createdAt: r.createdAt.toISOString(),
  };
}

export function toActiveTrade(r: TradeRow): ActiveTrade {
  return {
    id: r.id, strategyId: r.strategyId, pair: r.pair, direction: r.direction, entryPrice: num(r.entryPrice)!,
    entryMarketPrice: num(r.entryMarketPrice), stopLoss: num(r.stopLoss), takeProfit: num(r.takeProfit), openSignalId: r.openSignalId, openSeq: Number(r.openSeq),
    openedAt: r.openedAt.toISOString(),
  };
}

export function toCompletedTrade(r: TradeRow): CompletedTrade {
  return {
    ...toActiveTrade(r), exitPrice: num(r.exitPrice)!, exitMarketPrice: num(r.exitMarketPrice), closeSignalId: r.closeSignalId!, closeSeq: Number(r.closeSeq),
    closedAt: r.closedAt!.toISOString(), pnlPct: num(r.pnlPct)!, closeReason: r.closeReason,
  };
}

/**
 * The hash chaining a signal to its strategy's previous one: sha256 over a canonical rendering of
 * the fields an author could want to rewrite, plus the previous hash.
 */
export function signalHash(s: { id: string; strategyId: string; seq: number | bigint; pair: string; action: string; direction: string; price: string | number; stopLoss: string | number | null; takeProfit: string | number | null; source: string; createdAt: Date | string }, prevHash: string | null): string {
  const canon = (v: string | number | null) => (v === null ? '' : Number(v).toString());
  const created = typeof s.createdAt === 'string' ? s.createdAt : s.createdAt.toISOString();
  const text = [s.id, s.strategyId, String(s.seq), s.pair, s.action, s.direction, canon(s.price), canon(s.stopLoss), canon(s.takeProfit), s.source, created, prevHash ?? ''].join('|');
  return createHash('sha256').update(text).digest('hex');
}

/** Read side used by the JSON store for catch-up and rebuild. */
export class SignalReader {
  constructor(private readonly prisma: PrismaClient) {}

  async lastSeq(): Promise<number> {
    const row = await this.prisma.seqCounter.findUnique({ where: { id: 1 } });
    return Number(row?.value ?? 0n);
  }

  /** Effects of signals with seq > `afterSeq`, in seq order, at most `limit`. */
  async effectsAfter(afterSeq: number, limit = 1000): Promise<SignalEffect[]> {
    const signals = await this.prisma.signal.findMany({ where: { seq: { gt: BigInt(afterSeq) } }, orderBy: { seq: 'asc' }, take: limit });
    if (!signals.length) return [];
    const ids = signals.map((s) => s.id);
    const trades = await this.prisma.trade.findMany({ where: { OR: [{ openSignalId: { in: ids } }, { closeSignalId: { in: ids } }] } });
    const byOpen = new Map(trades.map((t) => [t.openSignalId, t]));
    const byClose = new Map(trades.filter((t) => t.closeSignalId).map((t) => [t.closeSignalId!, t]));
    return signals.map((row) => {
      const signal = toSignal(row);
      const open = byOpen.get(row.id);
      const close = byClose.get(row.id);
      // An OPEN whose trade is closed by now still opened it: the store replays history in seq order.
      return {
        signal,
        opened: open ? toActiveTrade(open) : undefined,
        closed: close ? toCompletedTrade(close) : undefined,
      };
    });
  }

  async activeTrades(): Promise<ActiveTrade[]> {
    const rows = await this.prisma.trade.findMany({ where: { status: 'ACTIVE' }, orderBy: { openSeq: 'asc' } });
    return rows.map(toActiveTrade);
  }

  async recentCompleted(limit: number): Promise<CompletedTrade[]> {
    const rows = await this.prisma.trade.findMany({ where: { status: 'COMPLETED' }, orderBy: { closeSeq: 'desc' }, take: limit });
    return rows.reverse().map(toCompletedTrade);
  }

  async completedBetween(from: Date, to: Date): Promise<CompletedTrade[]> {
    const rows = await this.prisma.trade.findMany({ where: { status: 'COMPLETED', closedAt: { gte: from, lt: to } }, orderBy: { closeSeq: 'asc' } });
    return rows.map(toCompletedTrade);
  }

  async firstClosedAt(): Promise<Date | null> {
    const row = await this.prisma.trade.findFirst({ where: { status: 'COMPLETED' }, orderBy: { closedAt: 'asc' }, select: { closedAt: true } });
    return row?.closedAt ?? null;
  }

  /**
   * Everything a rebuild needs, read in one REPEATABLE READ transaction: a consistent snapshot at
   * `lastSeq`, whatever other processes commit meanwhile (they are caught up by seq afterwards).
   */
  async snapshot(recentLimit: number): Promise<{ lastSeq: number; active: ActiveTrade[]; recent: CompletedTrade[]; counts: { signals: number; completed: number }; months: Map<string, CompletedTrade[]> }> {
    return this.prisma.$transaction(async (tx) => {
      const reader = new SignalReader(tx as unknown as PrismaClient);
      const lastSeq = await reader.lastSeq();
      const active = await reader.activeTrades();
      const recent = await reader.recentCompleted(recentLimit);
      const counts = await reader.counts();
      const months = new Map<string, CompletedTrade[]>();
      const first = await reader.firstClosedAt();
      for (const month of first ? monthsSince(first) : []) {
        const trades = await reader.completedBetween(...monthRange(month));
        if (trades.length) months.set(month, trades);
      }
      return { lastSeq, active, recent, counts, months };
    }, { isolationLevel: 'RepeatableRead', timeout: 60_000, maxWait: 10_000 });
  }

  async counts(): Promise<{ signals: number; completed: number }> {
    const signals = await this.prisma.signal.count();
    const completed = await this.prisma.trade.count({ where: { status: 'COMPLETED' } });
    return { signals, completed };
  }
}

/** [first day of `month`, first day of the next month), UTC. */
export function monthRange(month: string): [Date, Date] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return [new Date(Date.UTC(y, m - 1, 1)), new Date(Date.UTC(y, m, 1))];
}

/** 'YYYY-MM' of every UTC month from `first` to now. */
export function monthsSince(first: Date): string[] {
  const out: string[] = [];
  const d = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1));
  const now = new Date();
  while (d <= now) { out.push(d.toISOString().slice(0, 7)); d.setUTCMonth(d.getUTCMonth() + 1); }
  return out;
}
