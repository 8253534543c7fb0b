/**
 * Track-record statistics from a strategy's completed trades (PnL % per trade, in close order).
 * Equity compounds: each trade risks the whole equity, so 10% then -10% is -1%.
 * Sharpe and Sortino are per trade (mean PnL % over its deviation), not annualised, risk-free rate 0:
 * trades of a strategy have no fixed period, so annualising would invent one.
 */
export interface TrackStats {
  trades: number;
  wins: number;
  /** 0..100; null without trades (a strategy with no trades has no win rate, not 0 %). */
  winRate: number | null;
  /** Compounded, in %. */
  totalPnlPct: number;
  /** null without trades. */
  avgPnlPct: number | null;
  /** 0..100, peak-to-trough on the compounded equity curve. */
  maxDrawdownPct: number;
  /** Mean over sample standard deviation of per-trade PnL; null with fewer than 2 trades or no spread. */
  sharpe: number | null;
  /** Mean over downside deviation (losses only, over all trades); null without losses or with < 2 trades. */
  sortino: number | null;
}

/** One point of the equity curve: equity in % of the start (100 = flat) after the trade closed at `time`. */
export interface EquityPoint { time: string; equity: number }

const round = (n: number, d = 4) => Math.round(n * 10 ** d) / 10 ** d;

/** Statistics of per-trade PnL percentages, given in close order. */
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
    winRate: n ? round((wins / n) * 100, 2) : null,
    totalPnlPct: round((equity - 1) * 100),
    avgPnlPct: n ? round(mean(pnls)) : null,
    maxDrawdownPct: round(maxDd * 100),
    ...ratios(pnls),
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function ratios(pnls: number[]): { sharpe: number | null; sortino: number | null } {
  const n = pnls.length;
  if (n < 2) return { sharpe: null, sortino: null };
  const m = mean(pnls);
  const sd = Math.sqrt(pnls.reduce((a, p) => a + (p - m) ** 2, 0) / (n - 1));
  const downside = Math.sqrt(pnls.reduce((a, p) => a + Math.min(0, p) ** 2, 0) / n);
  return { sharpe: sd > 0 ? round(m / sd) : null, sortino: downside > 0 ? round(m / downside) : null };
}

/** The compounded equity curve (100 = start) of trades given in close order. */
export function equityCurve(trades: { closedAt: Date | string; pnlPct: number }[]): EquityPoint[] {
  let equity = 100;
  return trades.map((t) => {
    equity *= 1 + t.pnlPct / 100;
    return { time: typeof t.closedAt === 'string' ? t.closedAt : t.closedAt.toISOString(), equity: round(equity) };
  });
}

/** Compounded return of the trades closed in one UTC calendar month. */
export interface MonthlyReturn { year: number; month: number; returnPct: number; trades: number }

/** Monthly returns (UTC months with at least one closed trade), oldest first, from trades in close order. */
export function monthlyReturns(trades: { closedAt: Date | string; pnlPct: number }[]): MonthlyReturn[] {
  const months = new Map<string, { year: number; month: number; equity: number; trades: number }>();
  for (const t of trades) {
    const d = new Date(t.closedAt);
    const key = `${d.getUTCFullYear()}-${d.getUTCMonth()}`;
    const m = months.get(key) ?? { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, equity: 1, trades: 0 };
    m.equity *= 1 + t.pnlPct / 100;
    m.trades++;
    months.set(key, m);
  }
  return [...months.values()].sort((a, b) => a.year - b.year || a.month - b.month)
    .map((m) => ({ year: m.year, month: m.month, returnPct: round((m.equity - 1) * 100), trades: m.trades }));
}
