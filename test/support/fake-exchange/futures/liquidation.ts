/**
 * Liquidation in the futures engine: an isolated position goes when its margin plus unrealised PnL falls to
 * its maintenance margin (|qty| × mark × maintenance rate); cross positions go together when the cross wallet
 * plus their unrealised PnL falls to their summed maintenance. The position is closed at the mark; an isolated
 * loss is capped at the position's margin, and what is left of the margin (isolated) or of the cross wallet
 * goes to the insurance fund, as on the venues (liquidation clearance).
 */
import type { FuturesEngine } from './engine.js';
import { crossState, maintenance, unrealized } from './positions.js';
import type { FuturesAccount } from './types.js';

export function liquidateIfDue(engine: FuturesEngine, a: FuturesAccount): void {
  for (const p of a.positions.values()) {
    if (p.qty === 0n || p.isolatedMargin === 0n) continue;
    const m = engine.market(p.symbol);
    if (p.isolatedMargin + unrealized(p, m.mark) > maintenance(p, m)) continue;
    const back = engine.forceClose(a, p);
    // The margin already left the wallet at the entry: what came back of it is cleared, a loss beyond it is
    // the insurance fund's, so the wallet ends where it was.
    if (back > 0n) engine.clearToInsurance(a, p.symbol, back);
    else a.wallet -= back;
  }
  const cross = crossState(a, (s) => engine.market(s));
  if (cross.maint === 0n || cross.equity > cross.maint) return;
  const positions = [...a.positions.values()].filter((p) => p.qty !== 0n && p.isolatedMargin === 0n);
  for (const p of positions) engine.forceClose(a, p);
  if (positions[0] !== undefined) engine.clearToInsurance(a, positions[0].symbol, a.wallet);
  if (a.wallet < 0n) a.wallet = 0n;
}
