/**
 * Track-record verification: recomputes a strategy's hash chain and its statistics from the raw
 * Signal rows alone, so an author (or anyone with database access) cannot quietly rewrite history, and
 * compares the prices the author declared with the reference market's prices stored beside them.
 *
 * Vocabulary: a *link* is one signal's `prevHash` pointing at the previous signal's `hash`; the *head*
 * is `Strategy.lastSignalHash`, which must equal the last signal's hash (a deleted tail breaks it).
 * Trades are rebuilt by pairing OPEN/CLOSE per pair in seq order, never read from the Trade table.
 * Their PnL is taken at the signals' market prices (`Signal.marketPrice`), like the published record;
 * a trade with a leg without a market price is "price not verified" and counted apart. The published
 * statistics (from the Trade table) are then compared with the recomputed ones.
 *
 * What `ok` claims: the chain is intact, the published (market-price) statistics equal the recomputed
 * ones, and wherever a market price was stored the author's declared price lies within the tolerance of
 * it. It never claims the declared performance: that is reported as `declared`, unverified, and a
 * strategy whose declared prices diverge from the market fails with DECLARED_PRICES_DIVERGE.
 */
import type { PrismaClient } from '@prisma/client';
import { signalHash, pnlPct, type Direction } from '../signals/index.js';
import { trackStats, type TrackStats } from './stats.js';
import { share } from './track-record.js';

/** Why a signal row fails verification. */
export type ChainProblem = 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'HEAD_MISMATCH' | 'UNPAIRED_CLOSE' | 'OPEN_WHILE_OPEN';

/** Why a report is not ok. */
export type VerifyReason = 'CHAIN_BROKEN' | 'STATS_MISMATCH' | 'DECLARED_PRICES_DIVERGE';

/**
 * Default tolerance between a declared and a market price, in % of the market price: the acceptance
 * band's default (PRICE_BAND_PERCENT), so a signal the price check let through never counts as divergent.
 */
export const DEFAULT_DIVERGENCE_TOLERANCE_PCT = 3;

/** One signal whose declared price is far from the market price stored with it. */
export interface Divergent { seq: number; signalId: string; pair: string; action: string; price: number; marketPrice: number; divergencePct: number }

export interface PriceCheck {
  signals: number;
  /** Signals with a market price. */
  verifiedSignals: number;
  /** verifiedSignals / signals, 0..1; null without signals. */
  verifiedShare: number | null;
  /** Rebuilt trades with both legs at market prices (in `recomputed`), and the others (not counted). */
  verifiedTrades: number;
  unverifiedTrades: number;
  /**
   * |declared − market| / market in %, over the author-priced signals that have a market price (monitor
   * closes are priced at the level the author set, so a gap through it is slippage, not a claim).
   */
  divergence: { compared: number; maxPct: number | null; meanPct: number | null; tolerancePct: number; beyondTolerance: number; worst: Divergent[] };
}

export interface VerifyReport {
  strategyId: string;
  /** Chain intact, published statistics equal the recomputed ones, declared prices within tolerance of the market. */
  ok: boolean;
  /** Empty when ok. */
  reasons: VerifyReason[];
  signals: number;
  chain: { ok: boolean; head: string | null; problems: { seq: number; signalId: string | null; problem: ChainProblem }[] };
  /** What `recomputed` and `published` are computed from. */
  basis: 'market-prices';
  /** Statistics recomputed from the signals' market prices (verified trades only). */
  recomputed: TrackStats;
  /** Statistics the marketplace publishes (from its Trade table, market prices, verified trades only). */
  published: TrackStats;
  statsMatch: boolean;
  /** What the author's own prices would show over every rebuilt trade. NOT verified; for comparison only. */
  declared: TrackStats;
  prices: PriceCheck;
  openTrades: number;
  verifiedAt: string;
}

type Num = { toString(): string };
type Row = { id: string; seq: bigint; strategyId: string; pair: string; action: string; direction: string; price: Num; marketPrice: Num | null; stopLoss: Num | null; takeProfit: Num | null; source: string; createdAt: Date; prevHash: string | null; hash: string };

const BATCH = 5000;
const WORST = 10;
const str = (d: Num | null) => (d === null ? null : d.toString());
const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;

/** Walks the chain, rebuilds trades and compares declared with market prices; reads the signals in seq batches. */
class ChainWalker {
  prevHash: string | null = null;
  count = 0;
  verifiedSignals = 0;
  readonly problems: VerifyReport['chain']['problems'] = [];
  /** PnL % at market prices of trades with both legs verified. */
  readonly marketPnls: number[] = [];
  /** PnL % at declared prices of every trade. */
  readonly declaredPnls: number[] = [];
  unverifiedTrades = 0;
  private readonly open = new Map<string, { direction: Direction; entry: number; entryMarket: number | null }>();
  private compared = 0;
  private divergenceSum = 0;
  private divergenceMax: number | null = null;
  beyond = 0;
  worst: Divergent[] = [];

  constructor(private readonly tolerancePct: number) {}

  visit(r: Row): void {
    this.count++;
    const seq = Number(r.seq);
    if (r.prevHash !== this.prevHash) this.problems.push({ seq, signalId: r.id, problem: 'PREV_HASH_MISMATCH' });
    // Decimals as text, the market price too in case the hash covers it (today's hash ignores it).
    const fields = { ...r, price: str(r.price)!, marketPrice: str(r.marketPrice), stopLoss: str(r.stopLoss), takeProfit: str(r.takeProfit) };
    if (signalHash(fields, r.prevHash) !== r.hash) this.problems.push({ seq, signalId: r.id, problem: 'HASH_MISMATCH' });
    this.prevHash = r.hash;
    const market = r.marketPrice === null ? null : Number(r.marketPrice.toString());
    if (market !== null) { this.verifiedSignals++; this.diverge(r, seq, market); }
    this.trade(r, seq, market);
  }

  get openTrades(): number { return this.open.size; }

  priceCheck(): PriceCheck {
    return {
      signals: this.count, verifiedSignals: this.verifiedSignals, verifiedShare: share(this.verifiedSignals, this.count),
      verifiedTrades: this.marketPnls.length, unverifiedTrades: this.unverifiedTrades,
      divergence: {
        compared: this.compared, maxPct: this.divergenceMax === null ? null : round(this.divergenceMax),
        meanPct: this.compared ? round(this.divergenceSum / this.compared) : null,
        tolerancePct: this.tolerancePct, beyondTolerance: this.beyond, worst: this.worst,
      },
    };
  }

  private diverge(r: Row, seq: number, market: number): void {
    if (r.source === 'monitor' || !(market > 0)) return;
    const price = Number(r.price.toString());
    const pct = (Math.abs(price - market) / market) * 100;
    this.compared++;
    this.divergenceSum += pct;
    this.divergenceMax = Math.max(this.divergenceMax ?? 0, pct);
    // A hair above the tolerance from decimal rounding is not a divergence.
    if (pct <= this.tolerancePct + 1e-9) return;
    this.beyond++;
    const d = { seq, signalId: r.id, pair: r.pair, action: r.action, price, marketPrice: market, divergencePct: round(pct) };
    if (this.worst.length < WORST || pct > this.worst.at(-1)!.divergencePct) {
      this.worst = [...this.worst, d].sort((a, b) => b.divergencePct - a.divergencePct).slice(0, WORST);
    }
  }

  private trade(r: Row, seq: number, market: number | null): void {
    const price = Number(r.price.toString());
    const held = this.open.get(r.pair);
    if (r.action === 'OPEN') {
      if (held) this.problems.push({ seq, signalId: r.id, problem: 'OPEN_WHILE_OPEN' });
      this.open.set(r.pair, { direction: r.direction as Direction, entry: price, entryMarket: market });
      return;
    }
    if (!held) { this.problems.push({ seq, signalId: r.id, problem: 'UNPAIRED_CLOSE' }); return; }
    this.declaredPnls.push(pnlPct(held.direction, held.entry, price));
    if (held.entryMarket !== null && held.entryMarket > 0 && market !== null) this.marketPnls.push(pnlPct(held.direction, held.entryMarket, market));
    else this.unverifiedTrades++;
    this.open.delete(r.pair);
  }
}

/** Published stats must match to 4 decimals (both sides round the same way). */
function sameStats(a: TrackStats, b: TrackStats): boolean {
  return a.trades === b.trades && a.wins === b.wins && Math.abs(a.totalPnlPct - b.totalPnlPct) < 1e-3 && Math.abs(a.maxDrawdownPct - b.maxDrawdownPct) < 1e-3;
}

/**
 * Verifies one strategy. Returns null when the strategy does not exist.
 * @param published statistics the marketplace shows for it (from the Trade table, market prices)
 * @param opts.tolerancePct how far (in % of the market price) a declared price may be from the market
 */
export async function verifyStrategy(prisma: PrismaClient, strategyId: string, published: TrackStats, opts: { tolerancePct?: number } = {}): Promise<VerifyReport | null> {
  const strategy = await prisma.strategy.findUnique({ where: { id: strategyId }, select: { lastSignalHash: true } });
  if (!strategy) return null;
  const walker = new ChainWalker(opts.tolerancePct ?? DEFAULT_DIVERGENCE_TOLERANCE_PCT);
  let after = -1n;
  for (;;) {
    const rows: Row[] = await prisma.signal.findMany({ where: { strategyId, seq: { gt: after } }, orderBy: { seq: 'asc' }, take: BATCH });
    for (const r of rows) walker.visit(r);
    if (rows.length < BATCH) break;
    after = rows.at(-1)!.seq;
  }
  if ((strategy.lastSignalHash ?? null) !== walker.prevHash) walker.problems.push({ seq: -1, signalId: null, problem: 'HEAD_MISMATCH' });
  const recomputed = trackStats(walker.marketPnls);
  const chainOk = walker.problems.length === 0;
  const statsMatch = sameStats(recomputed, published);
  const prices = walker.priceCheck();
  const reasons: VerifyReason[] = [];
  if (!chainOk) reasons.push('CHAIN_BROKEN');
  if (!statsMatch) reasons.push('STATS_MISMATCH');
  if (prices.divergence.beyondTolerance > 0) reasons.push('DECLARED_PRICES_DIVERGE');
  return {
    strategyId, ok: reasons.length === 0, reasons, signals: walker.count,
    chain: { ok: chainOk, head: strategy.lastSignalHash ?? null, problems: walker.problems.slice(0, 100) },
    basis: 'market-prices', recomputed, published, statsMatch, declared: trackStats(walker.declaredPnls), prices,
    openTrades: walker.openTrades, verifiedAt: new Date().toISOString(),
  };
}
