/**
 * The one mapper from stored Signal and Trade rows to the domain objects, whatever read them: a Prisma
 * row (Decimal, bigint, Date) or a node-postgres `row_to_json` row (JSON numbers, UTC timestamps without
 * 'Z'). Every reader of the signal log (the SignalLog, the accept transaction, REST, WebSocket replay)
 * goes through these, so a signal looks the same on every path.
 */
import type { Action, ActiveTrade, CompletedTrade, Direction, Signal, Source } from './types.js';

/** A numeric column as any driver returns it: number, numeric text, bigint or a Decimal object. */
type Num = number | string | bigint | { toString(): string } | null | undefined;
/** A timestamp column: a Date (Prisma) or ISO text, with or without a zone (row_to_json of `timestamp`). */
type Time = Date | string;

export interface SignalRowLike {
  id: string; seq: Num; strategyId: string; pair: string; action: Action; direction: Direction; price: Num; marketPrice?: Num;
  stopLoss: Num; takeProfit: Num; note: string | null; source: Source; idempotencyKey: string | null; evidence: string | null;
  reason: string | null; prevHash: string | null; hash: string; createdAt: Time;
}

export interface TradeRowLike {
  id: string; strategyId: string; pair: string; direction: Direction; entryPrice: Num; entryMarketPrice?: Num; stopLoss: Num; takeProfit: Num;
  openSignalId: string; openSeq: Num; openedAt: Time; exitPrice?: Num; exitMarketPrice?: Num; closeSignalId?: string | null;
  closeSeq?: Num; closedAt?: Time | null; pnlPct?: Num; closeReason?: string | null;
}

export function num(v: Num): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(typeof v === 'object' ? v.toString() : v);
}

export function iso(v: Time): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(/(Z|[+-]\d\d(:?\d\d)?)$/i.test(v) ? v : `${v}Z`).toISOString();
}

export function toSignal(r: SignalRowLike): Signal {
  return {
    id: r.id, seq: num(r.seq)!, strategyId: r.strategyId, pair: r.pair, action: r.action, direction: r.direction,
    price: num(r.price)!, marketPrice: num(r.marketPrice), stopLoss: num(r.stopLoss), takeProfit: num(r.takeProfit), note: r.note, source: r.source,
    idempotencyKey: r.idempotencyKey, evidence: r.evidence, reason: r.reason, prevHash: r.prevHash, hash: r.hash,
    createdAt: iso(r.createdAt),
  };
}

export function toActiveTrade(r: TradeRowLike): ActiveTrade {
  return {
    id: r.id, strategyId: r.strategyId, pair: r.pair, direction: r.direction, entryPrice: num(r.entryPrice)!,
    entryMarketPrice: num(r.entryMarketPrice), stopLoss: num(r.stopLoss), takeProfit: num(r.takeProfit), openSignalId: r.openSignalId,
    openSeq: num(r.openSeq)!, openedAt: iso(r.openedAt),
  };
}

export function toCompletedTrade(r: TradeRowLike): CompletedTrade {
  return {
    ...toActiveTrade(r), exitPrice: num(r.exitPrice)!, exitMarketPrice: num(r.exitMarketPrice), closeSignalId: r.closeSignalId!,
    closeSeq: num(r.closeSeq)!, closedAt: iso(r.closedAt!), pnlPct: num(r.pnlPct)!, closeReason: r.closeReason ?? null,
  };
}
