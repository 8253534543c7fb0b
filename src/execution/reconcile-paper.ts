/**
 * Paper futures positions have no orders on the exchange: their stop loss and take profit are levels on the
 * Position. Each reconciliation period the venue's public mark price of every symbol held on paper is read once
 * (no key), and a level the price reached closes the position as the exchange would: a long's stop at or below,
 * its take profit at or above (a short's the reverse), filled at the mark price. It is recorded like an exchange
 * close (action STOP_LOSS / TAKE_PROFIT, paper, exactly once: reconcile-store.ts), PnL =
 * (exit − entry) × qty (× −1 for a short) minus the entry fee.
 */
import type { FuturesAccounts } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import { futuresSymbol } from './reconcile-check.js';
import type { HeldPosition, ReconcileRecord, ReconcileStore } from './reconcile-store.js';

/** Which level a mark price reached, if any. */
export function levelReached(p: Pick<HeldPosition, 'side' | 'stopLoss' | 'takeProfit'>, mark: number): 'STOP_LOSS' | 'TAKE_PROFIT' | null {
  const long = p.side === 'long';
  if (p.stopLoss !== null && (long ? mark <= p.stopLoss : mark >= p.stopLoss)) return 'STOP_LOSS';
  if (p.takeProfit !== null && (long ? mark >= p.takeProfit : mark <= p.takeProfit)) return 'TAKE_PROFIT';
  return null;
}

/** Fires the paper levels the mark prices reached; returns how many positions were closed. */
export async function firePaperLevels(d: { store: ReconcileStore; accounts: FuturesAccounts; log: Logger }, held: HeldPosition[]): Promise<number> {
  const marks = new Map<string, number | null>();
  for (const p of held) {
    const key = `${p.exchange}|${futuresSymbol(p.pair)}`;
    if (marks.has(key)) continue;
    try {
      await d.accounts.ensureMarkets(p.exchange);
      marks.set(key, await d.accounts.markPrice(p.exchange, futuresSymbol(p.pair)));
    } catch (err) {
      marks.set(key, null);
      d.log.warn({ err: (err as Error)?.message, exchange: p.exchange, pair: p.pair }, 'paper futures: no mark price; levels checked next period');
    }
  }
  let closed = 0;
  for (const p of held) {
    const mark = marks.get(`${p.exchange}|${futuresSymbol(p.pair)}`);
    const action = mark ? levelReached(p, mark) : null;
    if (!action || !mark) continue;
    const pnl = (mark - p.avgPrice) * p.qty * (p.side === 'long' ? 1 : -1) - p.entryFee;
    const rec: ReconcileRecord = {
      action, status: 'SUCCESS', side: p.side === 'long' ? 'sell' : 'buy', amount: p.qty, price: mark, orderId: null, realisedPnl: pnl, error: null, event: 'close',
      response: { reconciled: true, paper: true, reason: action, level: action === 'STOP_LOSS' ? p.stopLoss : p.takeProfit, markPrice: mark, held: { side: p.side, qty: p.qty, avgPrice: p.avgPrice }, entryFee: p.entryFee },
    };
    if (await d.store.recordClose(p, rec)) closed += 1;
  }
  return closed;
}
