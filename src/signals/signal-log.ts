/**
 * SignalLog: the read side of the signal log, by seq. `seq` is system-wide, gapless and commits in order
 * (the accept transaction holds the seq counter's row lock until COMMIT), so the committed signals are
 * always a prefix 1..head: reading "after N" in seq order never skips one that commits later.
 * Each entry is a SignalEffect: the signal and, when asked for, the trade it opened or closed (the trade
 * as it is now: an OPEN whose trade has closed since still carries it; the CLOSE follows later in the log).
 * Rows go through the one mapper in rows.ts.
 *
 * It reads through the node-postgres pool or, for modules that hold only the Prisma client, through
 * Prisma's raw queries (row_to_json arrives parsed either way).
 */
import type { PrismaClient } from '@prisma/client';
import type pg from 'pg';
import { toActiveTrade, toCompletedTrade, toSignal, type SignalRowLike, type TradeRowLike } from './rows.js';
import type { SignalEffect } from './types.js';

type Rows = <T>(sql: string, params: unknown[]) => Promise<T[]>;

function runner(db: pg.Pool | PrismaClient): Rows {
  if ('$queryRawUnsafe' in db) return <T>(sql: string, params: unknown[]) => db.$queryRawUnsafe<T[]>(sql, ...params);
  return async <T>(sql: string, params: unknown[]) => (await db.query(sql, params)).rows as T[];
}

// The trade of an OPEN is the one it opened (openSeq), of a CLOSE the one it completed (closeSeq); both
// found through the (strategyId, status) index, then by seq.
const AFTER_SQL = `
  SELECT row_to_json(s) AS signal,
    CASE WHEN $3::boolean THEN (SELECT row_to_json(t) FROM "Trade" t WHERE t."strategyId" = s."strategyId" AND t.pair = s.pair
      AND (CASE WHEN s.action = 'OPEN' THEN t."openSeq" ELSE t."closeSeq" END) = s.seq LIMIT 1) END AS trade
  FROM "Signal" s WHERE s.seq > $1 ORDER BY s.seq LIMIT $2`;

export interface ReadOptions {
  /** Also read the trade each signal opened or closed (default true). */
  trades?: boolean;
}

export class SignalLog {
  private readonly rows: Rows;

  constructor(db: pg.Pool | PrismaClient) { this.rows = runner(db); }

  /** The seq of the newest committed signal (0 for an empty log). */
  async headSeq(): Promise<number> {
    const [r] = await this.rows<{ value: number }>(`SELECT value::float8 AS value FROM "SeqCounter" WHERE id = 1`, []);
    return Number(r?.value ?? 0);
  }

  /** Signals with seq > `afterSeq`, in seq order, at most `limit`. */
  async after(afterSeq: number, limit: number, opts: ReadOptions = {}): Promise<SignalEffect[]> {
    const rows = await this.rows<{ signal: SignalRowLike; trade: TradeRowLike | null }>(AFTER_SQL, [Math.trunc(afterSeq), Math.trunc(limit), opts.trades ?? true]);
    return rows.map(({ signal, trade }) => {
      const s = toSignal(signal);
      if (!trade) return { signal: s };
      return s.action === 'OPEN' ? { signal: s, opened: toActiveTrade(trade) } : { signal: s, closed: toCompletedTrade(trade) };
    });
  }
}
