/**
 * What a futures venue reports of the closes it made itself (for the reconciliation, src/exchange/futures-
 * accounts.ts): the fills that reduced a position since a time, with their realised PnL net of the fees the
 * venue booked, and the funding paid or received on a symbol. ccxt 4.5.84 facts:
 * - Binance USDⓈ-M: `fetchMyTrades` (/fapi/v1/userTrades) gives each fill's `info.realizedPnl` (non-zero only on a
 *   reducing fill) and its commission; funding is `fetchFundingHistory` (/fapi/v1/income incomeType FUNDING_FEE),
 *   `amount` signed as the wallet moved (+ received); a liquidation's clearance fee (what was left of the margin,
 *   to the insurance fund) is income INSURANCE_CLEAR (/fapi/v1/income).
 * - Bybit v5 linear: `fetchPositionsHistory` (/v5/position/closed-pnl) gives one record per closing order:
 *   `closedPnl` (after its fees), `closedSize`, `avgExitPrice`; funding is `fetchFundingHistory`
 *   (/v5/execution/list execType Funding) whose `execFee` is positive when paid, so the wallet moved by −amount.
 */
import type { Exchange } from 'ccxt';

/** Fills that reduced a position: quantity, average price, realised PnL after fees (settle currency). */
export interface ClosedFills { qty: number; average: number | null; pnl: number }

export interface FuturesClosesDialect {
  /** Fills of `symbol` since `since` (ms) that reduced a position of `side`; zeros when none. */
  closes(ex: Exchange, symbol: string, side: 'long' | 'short', since: number): Promise<ClosedFills>;
  /** Net funding on `symbol` since `since` (ms): + received, − paid. */
  funding(ex: Exchange, symbol: string, since: number): Promise<number>;
  /** What a liquidation cost beyond its fills since `since` (ms), as a negative amount; 0 where the fills carry it all. */
  clearance(ex: Exchange, symbol: string, since: number): Promise<number>;
}

const n = (v: unknown): number => (Number.isFinite(Number(v)) ? Number(v) : 0);

/** Sums fills into a ClosedFills (quantity-weighted average). */
function summed(rows: { qty: number; price: number; pnl: number }[]): ClosedFills {
  const qty = rows.reduce((s, r) => s + r.qty, 0);
  const notional = rows.reduce((s, r) => s + r.qty * r.price, 0);
  return { qty, average: qty > 0 ? notional / qty : null, pnl: rows.reduce((s, r) => s + r.pnl, 0) };
}

const binance: FuturesClosesDialect = {
  async closes(ex, symbol, side, since) {
    const closing = side === 'long' ? 'sell' : 'buy';
    const trades = (await ex.fetchMyTrades(symbol, since)).filter((t) => t.side === closing && n(t.timestamp) >= since && n((t.info as { realizedPnl?: unknown })?.realizedPnl) !== 0);
    return summed(trades.map((t) => ({ qty: n(t.amount), price: n(t.price), pnl: n((t.info as { realizedPnl?: unknown }).realizedPnl) - n(t.fee?.cost) })));
  },
  async funding(ex, symbol, since) {
    return (await ex.fetchFundingHistory(symbol, since)).reduce((s, f) => s + n(f.amount), 0);
  },
  // The liquidation clearance fee (what was left of the margin goes to the insurance fund): income INSURANCE_CLEAR.
  async clearance(ex, symbol, since) {
    const rows = await (ex as unknown as { fapiPrivateGetIncome(p: object): Promise<{ income?: unknown; time?: unknown }[]> })
      .fapiPrivateGetIncome({ symbol: ex.market(symbol).id, incomeType: 'INSURANCE_CLEAR', startTime: since });
    return rows.filter((r) => n(r.time) >= since).reduce((s, r) => s + n(r.income), 0);
  },
};

const bybit: FuturesClosesDialect = {
  async closes(ex, symbol, side, since) {
    // A closed-pnl record's side is the closing order's: Sell closes a long.
    const closing = side === 'long' ? 'Sell' : 'Buy';
    const rows = (await ex.fetchPositionsHistory([symbol], since)).map((p) => p.info as Record<string, unknown>).filter((r) => r.side === closing && n(r.createdTime) >= since);
    return summed(rows.map((r) => ({ qty: n(r.closedSize), price: n(r.avgExitPrice), pnl: n(r.closedPnl) })));
  },
  async funding(ex, symbol, since) {
    return (await ex.fetchFundingHistory(symbol, since)).reduce((s, f) => s - n(f.amount), 0);
  },
  // A liquidation's closed-pnl record already counts what the position lost.
  clearance: async () => 0,
};

const DIALECTS: Readonly<Record<string, FuturesClosesDialect>> = { binance, bybit };

/** The closes dialect of a venue, or undefined where we trade no futures. */
export function futuresClosesFor(venue: string): FuturesClosesDialect | undefined {
  return Object.prototype.hasOwnProperty.call(DIALECTS, venue) ? DIALECTS[venue] : undefined;
}
