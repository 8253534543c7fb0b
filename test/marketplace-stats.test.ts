/** Track-record statistics against hand-computed answers (fractions in the comments). */
import assert from 'node:assert/strict';
import { equityCurve, trackStats } from '../src/marketplace/stats.js';

describe('track-record statistics', () => {
  it('compounds PnL, finds the peak-to-trough drawdown and per-trade Sharpe/Sortino for +10, -5, +2 %', () => {
    // equity 1.1 → 1.045 → 1.0659; drawdown (1.1 - 1.045) / 1.1 = 5 %
    // mean 7/3; sample sd sqrt(112.6667 / 2) = 7.50555 → Sharpe 0.3109; downside sqrt(25 / 3) = 2.88675 → Sortino 0.8083
    assert.deepEqual(trackStats([10, -5, 2]), {
      trades: 3, wins: 2, winRate: 66.67, totalPnlPct: 6.59, avgPnlPct: 2.3333, maxDrawdownPct: 5, sharpe: 0.3109, sortino: 0.8083,
    });
  });

  it('with no trades has no win rate or average (null, shown as a dash, not 0 %), and with one trade or no losses leaves the ratios it cannot compute null', () => {
    assert.deepEqual(trackStats([]), { trades: 0, wins: 0, winRate: null, totalPnlPct: 0, avgPnlPct: null, maxDrawdownPct: 0, sharpe: null, sortino: null });
    assert.equal(trackStats([5]).sharpe, null);
    const winners = trackStats([4, 6]);
    assert.equal(winners.sortino, null);
    assert.equal(winners.sharpe, 3.5355); // mean 5 / sd sqrt(2)
    assert.equal(trackStats([3, 3]).sharpe, null); // no spread
  });

  it('draws the compounded equity curve from 100, one point per closed trade', () => {
    assert.deepEqual(equityCurve([{ closedAt: '2026-01-01T00:00:00.000Z', pnlPct: 10 }, { closedAt: new Date('2026-01-02T00:00:00Z'), pnlPct: -50 }]),
      [{ time: '2026-01-01T00:00:00.000Z', equity: 110 }, { time: '2026-01-02T00:00:00.000Z', equity: 55 }]);
  });
});
