/**
 * The trade read queries the JSON store (rebuild, monthly archives) and the consistency check need, and the
 * signal hash. Rows become domain objects through the one mapper in rows.ts; reading the log by seq is SignalLog's.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient, Prisma } from '@prisma/client';
import { toActiveTrade, toCompletedTrade } from './rows.js';
import type { ActiveTrade, CompletedTrade } from './types.js';

export type SignalRow = Prisma.SignalGetPayload<object>;
export type TradeRow = Prisma.TradeGetPayload<object>;

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

/** Trade reads for the JSON store's rebuild and archives and for the consistency check. */
export class SignalReader {
  constructor(private readonly prisma: PrismaClient) {}

  /** The seq counter (inside snapshot(): the seq the snapshot is consistent with). */
  async lastSeq(): Promise<number> {
    const row = await this.prisma.seqCounter.findUnique({ where: { id: 1 } });
    return Number(row?.value ?? 0n);
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
