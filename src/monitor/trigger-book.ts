/**
 * TriggerBook: the open trades the monitor watches, indexed for O(triggered + log n) price ticks.
 * Per pair two heaps of trigger levels:
 *   - `below` (highest level first): fires when the price falls to or under the level — LONG stop
 *     loss, SHORT take profit;
 *   - `above` (lowest level first): fires when the price rises to or over the level — LONG take
 *     profit, SHORT stop loss.
 * A tick pops only the entries it crosses. Removed trades leave stale heap entries that are skipped
 * when popped and compacted once they outnumber the live ones, so memory follows the open trades.
 *
 * Crossing rules (README "Trade monitor"): a tick carries the last price and the range [low, high]
 * the price is known to have covered since the previous tick. A level inside the range but not
 * crossed by the last price counts only for trades opened before the previous observation (the range
 * may predate a newer trade). A trade crossed on both sides in one tick (a gap through both levels)
 * closes at the level nearer the previous observed price; equal distance or no previous price →
 * STOP_LOSS (the conservative choice). The exit price is the level crossed (stop/limit semantics).
 */
import { Heap } from './heap.js';

export type CloseReason = 'STOP_LOSS' | 'TAKE_PROFIT';

/** An open trade with at least one of stop loss / take profit. Prices in quote currency. */
export interface WatchedTrade {
  id: string;
  strategyId: string;
  pair: string;
  direction: 'LONG' | 'SHORT';
  entryPrice: number;
  stopLoss: number | null;
  takeProfit: number | null;
  openSeq: number;
  /** ms since epoch. */
  openedAt: number;
}

/** One observation of a pair: last price, and the range covered since the previous observation. */
export interface PriceTick {
  pair: string;
  last: number;
  high: number;
  low: number;
  /** Previous observed last price, if any. */
  prev: number | null;
  /** When the previous observation was received (ms); null on the first one. */
  prevAt: number | null;
}

/** A crossing found by a tick: close `trade` for `reason` at `exitPrice`. */
export interface Trigger { trade: WatchedTrade; reason: CloseReason; exitPrice: number; observedPrice: number }

interface Entry { level: number; reason: CloseReason; trade: WatchedTrade }

class PairBook {
  readonly below = new Heap<Entry>((a, b) => a.level > b.level);
  readonly above = new Heap<Entry>((a, b) => a.level < b.level);
  stale = 0;
  get size() { return this.below.size + this.above.size; }
}

const key = (strategyId: string, pair: string) => `${strategyId}\u0000${pair}`;

export class TriggerBook {
  private readonly trades = new Map<string, WatchedTrade>();
  private readonly byStrategyPair = new Map<string, WatchedTrade>();
  private readonly pairs = new Map<string, PairBook>();

  get size(): number { return this.trades.size; }
  /** Pairs with at least one watched trade. */
  watchedPairs(): string[] { return [...this.pairs.keys()]; }
  has(tradeId: string): boolean { return this.trades.has(tradeId); }
  get(tradeId: string): WatchedTrade | undefined { return this.trades.get(tradeId); }
  /** Heap entries held, live and stale (for memory checks). */
  entryCount(): number { let n = 0; for (const b of this.pairs.values()) n += b.size; return n; }

  /**
   * Watches `t` (ignored without stop loss and take profit, or when already watched). An older trade
   * of the same strategy and pair is dropped: only one can be open, so it has been closed.
   */
  add(t: WatchedTrade): boolean {
    if (this.trades.has(t.id) || (t.stopLoss === null && t.takeProfit === null)) return false;
    const older = this.byStrategyPair.get(key(t.strategyId, t.pair));
    if (older) {
      if (older.openSeq > t.openSeq) return false;
      this.remove(older.id);
    }
    this.trades.set(t.id, t);
    this.byStrategyPair.set(key(t.strategyId, t.pair), t);
    let book = this.pairs.get(t.pair);
    if (!book) this.pairs.set(t.pair, (book = new PairBook()));
    const long = t.direction === 'LONG';
    if (t.stopLoss !== null) (long ? book.below : book.above).push({ level: t.stopLoss, reason: 'STOP_LOSS', trade: t });
    if (t.takeProfit !== null) (long ? book.above : book.below).push({ level: t.takeProfit, reason: 'TAKE_PROFIT', trade: t });
    return true;
  }

  /** Stops watching a trade; returns it if it was watched. */
  remove(tradeId: string): WatchedTrade | undefined {
    return this.forget(tradeId, 0);
  }

  /** Drops a trade whose `popped` heap entries have already left the heaps; the rest become stale. */
  private forget(tradeId: string, popped: number): WatchedTrade | undefined {
    const t = this.trades.get(tradeId);
    if (!t) return undefined;
    this.trades.delete(tradeId);
    const k = key(t.strategyId, t.pair);
    if (this.byStrategyPair.get(k) === t) this.byStrategyPair.delete(k);
    const book = this.pairs.get(t.pair);
    // No book left means no entry of this pair remains in any heap.
    if (book) {
      book.stale += (t.stopLoss === null ? 0 : 1) + (t.takeProfit === null ? 0 : 1) - popped;
      this.compact(t.pair, book);
    }
    return t;
  }

  /** A CLOSE with `closeSeq` on (strategy, pair): drops the watched trade opened before it. */
  removeClosed(strategyId: string, pair: string, closeSeq: number): WatchedTrade | undefined {
    const t = this.byStrategyPair.get(key(strategyId, pair));
    return t && t.openSeq < closeSeq ? this.remove(t.id) : undefined;
  }

  /** Watched trades of one strategy. */
  ofStrategy(strategyId: string): WatchedTrade[] {
    return [...this.trades.values()].filter((t) => t.strategyId === strategyId);
  }

  /**
   * Applies one tick: returns the trades it crosses (each removed from the book) in no particular
   * order. Cost: O((crossed + skipped stale) × log n) for the pair; other pairs are not touched.
   */
  evaluate(tick: PriceTick): Trigger[] {
    const book = this.pairs.get(tick.pair);
    if (!book) return [];
    const hits = new Map<string, Entry[]>();
    this.popCrossed(book.below, tick, (e) => e.level >= tick.low, (e) => tick.last <= e.level, hits);
    this.popCrossed(book.above, tick, (e) => e.level <= tick.high, (e) => tick.last >= e.level, hits);
    const out: Trigger[] = [];
    for (const entries of hits.values()) {
      const chosen = entries.length === 1 ? entries[0]! : firstCrossed(entries, tick.prev);
      this.forget(chosen.trade.id, entries.length);
      out.push({ trade: chosen.trade, reason: chosen.reason, exitPrice: chosen.level, observedPrice: tick.last });
    }
    return out;
  }

  private popCrossed(heap: Heap<Entry>, tick: PriceTick, inRange: (e: Entry) => boolean, byLast: (e: Entry) => boolean, hits: Map<string, Entry[]>): void {
    const deferred: Entry[] = [];
    for (let e = heap.peek(); e && inRange(e); e = heap.peek()) {
      heap.pop();
      if (this.trades.get(e.trade.id) !== e.trade) { this.pairs.get(tick.pair)!.stale--; continue; }
      // The range may predate a trade opened since the previous observation: only the last price counts for it.
      const rangeApplies = tick.prevAt !== null && e.trade.openedAt <= tick.prevAt;
      if (!byLast(e) && !rangeApplies) { deferred.push(e); continue; }
      const list = hits.get(e.trade.id);
      if (list) list.push(e); else hits.set(e.trade.id, [e]);
    }
    for (const e of deferred) heap.push(e);
  }

  private compact(pair: string, book: PairBook): void {
    if (book.stale >= book.size) { this.pairs.delete(pair); return; }
    if (book.stale < 64 || book.stale * 2 < book.size) return;
    const live = (e: Entry) => this.trades.get(e.trade.id) === e.trade;
    book.below.retain(live);
    book.above.retain(live);
    book.stale = 0;
  }
}

/** Gap through both levels: the one nearer the previous price is assumed crossed first; ties → STOP_LOSS. */
function firstCrossed(entries: Entry[], prev: number | null): Entry {
  const sl = entries.find((e) => e.reason === 'STOP_LOSS')!;
  const tp = entries.find((e) => e.reason === 'TAKE_PROFIT')!;
  if (prev === null) return sl;
  return Math.abs(tp.level - prev) < Math.abs(sl.level - prev) ? tp : sl;
}
