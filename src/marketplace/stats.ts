/**
 * Track-record statistics from a strategy's completed trades (PnL % per trade, in close order).
 * Equity compounds: each trade risks the whole equity, so 10% then -10% is -1%.
 */
export interface TrackStats {
  trades: number;
  wins: number;
  winRate: number; // 0..100
  totalPnlPct: number; // compounded
  avgPnlPct: number;
  maxDrawdownPct: number; // 0..100, peak-to-trough on the compounded equity curve
}

const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;

export function trackStats(pnls: number[]): TrackStats {
  let equity = 1;
  let peak = 1;
  let maxDd = 0;
  let wins = 0;
  for (const p of pnls) {
    if (p > 0) wins++;
    equity *= 1 + p / 100;
    peak = Math.max(peak, equity);
    maxDd = Math.max(maxDd, (peak - equity) / peak);
  }
  const n = pnls.length;
  return {
    trades: n,
    wins,
    winRate: n ? round((wins / n) * 100, 2) : 0,
    totalPnlPct: round((equity - 1) * 100),
    avgPnlPct: n ? round(pnls.reduce((a, b) => a + b, 0) / n) : 0,
    maxDrawdownPct: round(maxDd * 100),
  };
}
