/**
 * Track-record verification: recomputes a strategy's hash chain and its statistics from the raw
 * Signal rows alone, so an author (or anyone with database access) cannot quietly rewrite history.
 *
 * Vocabulary: a *link* is one signal's `prevHash` pointing at the previous signal's `hash`; the *head*
 * is `Strategy.lastSignalHash`, which must equal the last signal's hash (a deleted tail breaks it).
 * Trades are rebuilt by pairing OPEN/CLOSE per pair in seq order, never read from the Trade table;
 * the published statistics (from the Trade table) are then compared with the recomputed ones.
 */
import type { PrismaClient } from '@prisma/client';
import { signalHash, pnlPct, type Direction } from '../signals/index.js';
import { trackStats, type TrackStats } from './stats.js';

/** Why a signal row fails verification. */
export type ChainProblem = 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'HEAD_MISMATCH' | 'UNPAIRED_CLOSE' | 'OPEN_WHILE_OPEN';

export interface VerifyReport {
  strategyId: string;
  /** True when the chain is intact and the published statistics equal the recomputed ones. */
  ok: boolean;
  signals: number;
  chain: { ok: boolean; head: string | null; problems: { seq: number; signalId: string | null; problem: ChainProblem }[] };
  /** Statistics recomputed from the signals. */
  recomputed: TrackStats;
  /** Statistics the marketplace publishes (from its Trade table). */
  published: TrackStats;
  statsMatch: boolean;
  openTrades: number;
  verifiedAt: string;
}

type Row = { id: string; seq: bigint; strategyId: string; pair: string; action: string; direction: string; price: { toString(): string }; stopLoss: { toString(): string } | null; takeProfit: { toString(): string } | null; source: string; createdAt: Date; prevHash: string | null; hash: string };

const BATCH = 5000;
const str = (d: { toString(): string } | null) => (d === null ? null : d.toString());

/** Walks the chain and rebuilds trades; reads the signals in seq batches. */
class ChainWalker {
  prevHash: string | null = null;
  count = 0;
  readonly problems: VerifyReport['chain']['problems'] = [];
  readonly pnls: number[] = [];
  private readonly open = new Map<string, { direction: Direction; entry: number }>();

  visit(r: Row): void {
    this.count++;
    const seq = Number(r.seq);
    if (r.prevHash !== this.prevHash) this.problems.push({ seq, signalId: r.id, problem: 'PREV_HASH_MISMATCH' });
    const fields = { ...r, price: str(r.price)!, stopLoss: str(r.stopLoss), takeProfit: str(r.takeProfit) };
    if (signalHash(fields, r.prevHash) !== r.hash) this.problems.push({ seq, signalId: r.id, problem: 'HASH_MISMATCH' });
    this.prevHash = r.hash;
    this.trade(r, seq);
  }

  get openTrades(): number { return this.open.size; }

  private trade(r: Row, seq: number): void {
    const price = Number(r.price.toString());
    const held = this.open.get(r.pair);
    if (r.action === 'OPEN') {
      if (held) this.problems.push({ seq, signalId: r.id, problem: 'OPEN_WHILE_OPEN' });
      this.open.set(r.pair, { direction: r.direction as Direction, entry: price });
      return;
    }
    if (!held) { this.problems.push({ seq, signalId: r.id, problem: 'UNPAIRED_CLOSE' }); return; }
    this.pnls.push(pnlPct(held.direction, held.entry, price));
    this.open.delete(r.pair);
  }
}

/** Published stats must match to 4 decimals (both sides round the same way). */
function sameStats(a: TrackStats, b: TrackStats): boolean {
  return a.trades === b.trades && a.wins === b.wins && Math.abs(a.totalPnlPct - b.totalPnlPct) < 1e-3 && Math.abs(a.maxDrawdownPct - b.maxDrawdownPct) < 1e-3;
}

/**
 * Verifies one strategy. Returns null when the strategy does not exist.
 * @param published statistics the marketplace shows for it (from the Trade table)
 */
export async function verifyStrategy(prisma: PrismaClient, strategyId: string, published: TrackStats): Promise<VerifyReport | null> {
  const strategy = await prisma.strategy.findUnique({ where: { id: strategyId }, select: { lastSignalHash: true } });
  if (!strategy) return null;
  const walker = new ChainWalker();
  let after = -1n;
  for (;;) {
    const rows: Row[] = await prisma.signal.findMany({ where: { strategyId, seq: { gt: after } }, orderBy: { seq: 'asc' }, take: BATCH });
    for (const r of rows) walker.visit(r);
    if (rows.length < BATCH) break;
    after = rows.at(-1)!.seq;
  }
  if ((strategy.lastSignalHash ?? null) !== walker.prevHash) walker.problems.push({ seq: -1, signalId: null, problem: 'HEAD_MISMATCH' });
  const recomputed = trackStats(walker.pnls);
  const chainOk = walker.problems.length === 0;
  const statsMatch = sameStats(recomputed, published);
  return {
    strategyId, ok: chainOk && statsMatch, signals: walker.count,
    chain: { ok: chainOk, head: strategy.lastSignalHash ?? null, problems: walker.problems.slice(0, 100) },
    recomputed, published, statsMatch, openTrades: walker.openTrades, verifiedAt: new Date().toISOString(),
  };
}
