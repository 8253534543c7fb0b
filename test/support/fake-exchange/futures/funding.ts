/**
 * Funding settlement in the futures engine (both venues settle every 8 h at the mark price): every open position
 * of the symbol pays |notional| × rate when the rate is positive and it is long (a short receives it), the
 * reverse when negative. Booked to the wallet and kept as a FUNDING_FEE income row (+ received, − paid): Binance
 * lists it under /fapi/v1/income incomeType FUNDING_FEE, Bybit as executions with execType Funding.
 */
import { mul, toUnits } from '../decimal.js';
import type { FuturesEngine } from './engine.js';

let tranId = 9_000_000_000;

export function settleFunding(engine: FuturesEngine, symbol: string, rate: number | string): void {
  const m = engine.market(symbol);
  const r = toUnits(rate);
  for (const a of engine.accounts.values()) {
    for (const p of a.positions.values()) {
      if (p.symbol !== m.id || p.qty === 0n) continue;
      const amount = -mul(mul(p.qty, m.mark), r);
      a.wallet += amount;
      a.income.push({ tranId: tranId++, symbol: m.id, incomeType: 'FUNDING_FEE', income: amount, time: Date.now(), tradeId: 0 });
    }
  }
}
