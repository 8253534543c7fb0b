/**
 * One API key's reconciliation: its positions on the venue (one request for every symbol) against the futures
 * Positions its subscriptions hold, and for each difference what the venue says happened:
 *  - held, same side and quantity → nothing to do;
 *  - gone → the take-profit or stop-loss that filled (looked up by our client ids; the one left resting is
 *    cancelled), else a liquidation the venue recorded since the position last changed, else a close in the
 *    user's account (CLOSED_ON_EXCHANGE, priced from the venue's closing fills); PnL after fees, plus funding;
 *  - smaller → a partial close in the user's account: the quantity left is recorded with the fills' PnL;
 *  - larger, or a position on the venue that no Position explains → RECONCILE_MISMATCH, once per observation;
 *  - and per poll, for ONE intact position of the key (the one verified longest ago), whether its stop loss and
 *    take profit still rest (one request for the symbol's conditional orders): one cancelled by hand is
 *    forgotten by the Position and reported (RECONCILE_MISMATCH). Each position is so verified every N periods
 *    for a key holding N positions, at one request per key and period.
 * The records are exactly-once (reconcile-store.ts). Throws ExchangeError (the key is tried next period).
 */
import { ExchangeBusy, ExchangeError, type FuturesAccount, type FuturesOrder, type FuturesPosition } from '../exchange/index.js';
import type { Logger } from '../lib/logger.js';
import type { HeldPosition, ReconcileAction, ReconcileRecord, ReconcileStore } from './reconcile-store.js';

export interface KeyCheck {
  account: FuturesAccount;
  /** Positions of this key's subscriptions (one venue). */
  held: HeldPosition[];
  store: ReconcileStore;
  /** Runs one exchange request within the key's allowance. */
  call<T>(f: () => Promise<T>): Promise<T>;
  /** When the resting orders of each position were last verified (ms): one position of the key per poll, oldest first. */
  orderChecks: Map<string, number>;
  log: Logger;
}

export interface CheckReport { ok: number; closed: number; reduced: number; mismatches: number }

/** How far apart two quantities may be and still be the same (decimal noise). */
const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
/** The ccxt symbol of a stored pair: linear perpetuals settle in their quote currency. */
export const futuresSymbol = (pair: string) => (pair.includes(':') ? pair : `${pair}:${pair.split('/')[1] ?? 'USDT'}`);
/** The stored pair of a ccxt futures symbol. */
export const pairOfSymbol = (symbol: string) => symbol.split(':')[0] ?? symbol;
const closingSide = (side: 'long' | 'short') => (side === 'long' ? 'sell' as const : 'buy' as const);
/** Lookups reach this far before the position was opened (venue and database clocks differ a little). */
const SKEW_MS = 60_000;
/**
 * Both venues answer a history query with a start time for at most 7 days from it (Binance userTrades/income/
 * forceOrders, Bybit execution/closed-pnl): a start further back would miss what happened since the last poll.
 * Funding of a position held longer is counted for its last 7 days only.
 */
const HISTORY_MS = 7 * 86_400_000 - 3_600_000;
const from = (t: number) => Math.max(t, Date.now() - HISTORY_MS);

export async function checkKey(k: KeyCheck): Promise<CheckReport> {
  const report: CheckReport = { ok: 0, closed: 0, reduced: 0, mismatches: 0 };
  const onVenue = await k.call(() => k.account.fetchPositions());
  const slots = new Map(onVenue.map((p) => [`${p.symbol}|${p.side}`, p]));
  // Subscriptions sharing one key may hold the same symbol and side: one position on the venue (one-way mode).
  const bySlot = new Map<string, HeldPosition[]>();
  for (const pos of k.held) {
    const slot = `${futuresSymbol(pos.pair)}|${pos.side}`;
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), pos]);
  }
  const seen: { id: string; price: number }[] = [];
  const intact: HeldPosition[] = [];
  for (const [slot, group] of bySlot) {
    try {
      await checkSlot(k, slot, group, slots.get(slot), report, seen, intact);
    } catch (err) {
      // One position the venue cannot answer for (a delisted symbol…) must not hold up the key's others.
      if (err instanceof ExchangeBusy || (err instanceof ExchangeError && err.kind === 'auth')) throw err;
      k.log.warn({ err: (err as Error)?.message, subscriptionIds: group.map((p) => p.subscriptionId), pair: group[0]?.pair }, 'futures reconciliation of a position failed; checked again next period');
    }
  }
  await k.store.saveLiquidationPrices(seen);
  const due = intact.sort((x, y) => (k.orderChecks.get(x.id) ?? 0) - (k.orderChecks.get(y.id) ?? 0))[0];
  if (due) report.mismatches += await checkResting(k, due, futuresSymbol(due.pair));
  const owner = k.held[0];
  for (const p of onVenue) {
    if (!owner || bySlot.has(`${p.symbol}|${p.side}`)) continue;
    const rec = mismatch(owner, p, `the exchange holds a ${p.side} ${p.contracts} ${p.symbol} position (entry ${p.entryPrice ?? '?'}) that no futures subscription on this key opened`);
    const recorded = await k.store.recordUnknown(owner, pairOfSymbol(p.symbol), p.side, { ...rec, amount: p.contracts, side: null, event: `unknown:${p.symbol}:${p.side}:${p.contracts}:${p.entryPrice ?? ''}` });
    report.mismatches += Number(recorded);
  }
  return report;
}

/** One symbol and side of the key: the Positions held there against what the venue holds. */
async function checkSlot(k: KeyCheck, slot: string, group: HeldPosition[], there: FuturesPosition | undefined, report: CheckReport, seen: { id: string; price: number }[], intact: HeldPosition[]): Promise<void> {
  const symbol = slot.split('|')[0]!;
  const total = group.reduce((sum, p) => sum + p.qty, 0);
  if (there && same(there.contracts, total)) {
    report.ok += group.length;
    for (const pos of group) {
      if (pos.slClientOrderId || pos.tpClientOrderId) intact.push(pos);
      if (there.liquidationPrice !== null && there.liquidationPrice > 0) seen.push({ id: pos.id, price: there.liquidationPrice });
    }
  } else if (!there) {
    for (const pos of group) report.closed += Number(await closed(k, pos, symbol));
  } else if (group.length === 1 && there.contracts < total) {
    report.reduced += Number(await reduced(k, group[0]!, symbol, there.contracts));
  } else {
    // Less than together held: the positions whose own stop or take profit filled are closed; what is left unexplained is a mismatch.
    let left = total;
    if (there.contracts < total) for (const pos of group) if (await closed(k, pos, symbol, true)) { report.closed += 1; left -= pos.qty; }
    if (!same(there.contracts, left)) {
      const what = `the exchange holds ${there.contracts} ${symbol} ${there.side}, ${there.contracts < left ? 'less' : 'more'} than the ${left} ${group.length > 1 ? 'these subscriptions opened together' : 'this subscription opened'}`;
      report.mismatches += Number(await k.store.recordMismatch(group[0]!, mismatch(group[0]!, there, what), there.contracts > left ? there.contracts : undefined));
    }
  }
}

/**
 * The stop loss and take profit of a position that is as we hold it must still rest (the user may have
 * cancelled one by hand): one request for the symbol's resting conditional orders. One that no longer rests is
 * forgotten by the Position and reported (RECONCILE_MISMATCH: the position is not protected by it any more).
 */
async function checkResting(k: KeyCheck, pos: HeldPosition, symbol: string): Promise<number> {
  k.orderChecks.set(pos.id, Date.now());
  const resting = await k.call(() => k.account.restingConditionalIds(symbol));
  let recorded = 0;
  for (const [which, cid, name] of [['sl', pos.slClientOrderId, 'stop-loss'], ['tp', pos.tpClientOrderId, 'take-profit']] as const) {
    if (!cid || resting.has(cid)) continue;
    const o = await k.call(() => k.account.findProtective(symbol, cid));
    if (o?.status === 'open') continue;
    // The position may have closed since it was read (a liquidation expires its orders): the next poll records that.
    const still = (await k.call(() => k.account.fetchPositions([symbol]))).find((x) => x.side === pos.side);
    if (!still || !same(still.contracts, pos.qty)) return recorded;
    const rec: ReconcileRecord = {
      action: 'RECONCILE_MISMATCH', status: 'FAILED', side: null, amount: pos.qty, price: null, orderId: null, realisedPnl: null, event: `gone:${which}:${cid}`,
      error: `RECONCILE_MISMATCH: the ${name} order ${cid} of the open ${pos.side} ${pos.qty} ${symbol} position no longer rests on the exchange (${o ? o.status : 'not found'}); the position is not protected by it any more`,
      response: { reconciled: true, held: { pair: pos.pair, side: pos.side, qty: pos.qty }, order: o ? { clientOrderId: cid, status: o.status, filled: o.filled } : { clientOrderId: cid, found: false } },
    };
    recorded += Number(await k.store.recordProtectionGone(pos, which, rec));
  }
  return recorded;
}

function mismatch(pos: HeldPosition, there: FuturesPosition, what: string): ReconcileRecord {
  return {
    action: 'RECONCILE_MISMATCH', status: 'FAILED', side: null, amount: there.contracts, price: there.entryPrice, orderId: null, realisedPnl: null,
    error: `RECONCILE_MISMATCH: ${what}; nothing was changed, check the position on the exchange`,
    response: { reconciled: true, held: { pair: pos.pair, side: pos.side, qty: pos.qty }, exchange: { symbol: there.symbol, side: there.side, contracts: there.contracts, entryPrice: there.entryPrice } },
    event: `mismatch:${there.symbol}:${there.side}:${there.contracts}`,
  };
}

/** The protective order of the position that filled, if one did, and our client ids still resting. */
async function firedProtective(k: KeyCheck, pos: HeldPosition, symbol: string): Promise<{ fired: { kind: 'TAKE_PROFIT' | 'STOP_LOSS'; order: FuturesOrder } | null; resting: string[] }> {
  const legs = [['TAKE_PROFIT', pos.tpClientOrderId], ['STOP_LOSS', pos.slClientOrderId]] as const;
  let fired: { kind: 'TAKE_PROFIT' | 'STOP_LOSS'; order: FuturesOrder } | null = null;
  const resting: string[] = [];
  for (const [kind, cid] of legs) {
    if (!cid) continue;
    if (fired) { resting.push(cid); continue; }
    const o = await k.call(() => k.account.findProtective(symbol, cid));
    if (o && o.status === 'closed' && o.filled > 0) fired = { kind, order: o };
    else if (o && o.status === 'open') resting.push(cid);
  }
  return { fired, resting };
}

/**
 * Records the position closed on the exchange, after cancelling its orders still resting. `onlyIfFired`: only
 * when its own stop loss or take profit filled (the venue still holds other subscriptions' part of the symbol).
 */
async function closed(k: KeyCheck, pos: HeldPosition, symbol: string, onlyIfFired = false): Promise<boolean> {
  const { fired, resting } = await firedProtective(k, pos, symbol);
  if (onlyIfFired && !fired) return false;
  const cancelled: string[] = [];
  for (const cid of resting) if (await k.call(() => k.account.cancelProtective(symbol, cid))) cancelled.push(cid);
  const since = from(pos.updatedAt - 1000);
  let action: ReconcileAction;
  let fill: { amount: number; price: number | null; orderId: string | null; pnl: number | null };
  let evidence: unknown;
  if (fired) {
    action = fired.kind;
    const pnl = await k.call(() => k.account.realisedPnl(symbol, fired.order, from(pos.openedAt - SKEW_MS)));
    fill = { amount: fired.order.filled, price: fired.order.average, orderId: fired.order.fillOrderId, pnl };
    evidence = { order: { clientOrderId: fired.order.clientOrderId, status: fired.order.status, filled: fired.order.filled, average: fired.order.average, fillOrderId: fired.order.fillOrderId } };
  } else {
    const liquidations = await k.call(() => k.account.liquidations(symbol, since));
    const fills = await k.call(() => k.account.closes(symbol, pos.side, since));
    const liq = liquidations.reduce((s, l) => s + l.contracts, 0);
    action = liq > 0 ? 'LIQUIDATION' : 'CLOSED_ON_EXCHANGE';
    const liqPrice = liq > 0 ? liquidations.reduce((s, l) => s + l.contracts * (l.price ?? 0), 0) / liq : null;
    const clearance = liq > 0 ? await k.call(() => k.account.liquidationClearance(symbol, since)) : 0;
    fill = { amount: liq > 0 ? liq : fills.qty > 0 ? fills.qty : pos.qty, price: liqPrice ?? fills.average, orderId: null, pnl: fills.qty > 0 ? fills.pnl + clearance : null };
    evidence = { liquidations, fills, clearance };
  }
  const funding = await k.call(() => k.account.funding(symbol, from(pos.openedAt - SKEW_MS)));
  // The round trip: the close's PnL after its fee, the funding, and the entry's fee (recorded on the Position).
  const realisedPnl = fill.pnl === null ? null : fill.pnl + funding - pos.entryFee;
  const rec: ReconcileRecord = {
    action, status: 'SUCCESS', side: closingSide(pos.side), amount: fill.amount, price: fill.price, orderId: fill.orderId, realisedPnl, error: null, event: 'close',
    response: { reconciled: true, reason: action, symbol, held: { side: pos.side, qty: pos.qty, avgPrice: pos.avgPrice }, ...evidenceOf(evidence), venuePnl: fill.pnl, funding, entryFee: pos.entryFee, cancelled },
  };
  const done = await k.store.recordClose(pos, rec);
  if (done) k.log.info({ subscriptionId: pos.subscriptionId, pair: pos.pair, action, realisedPnl }, 'futures position closed on the exchange: recorded');
  return done;
}

const evidenceOf = (e: unknown) => (e && typeof e === 'object' ? e as Record<string, unknown> : {});

async function reduced(k: KeyCheck, pos: HeldPosition, symbol: string, left: number): Promise<boolean> {
  const fills = await k.call(() => k.account.closes(symbol, pos.side, from(pos.updatedAt - 1000)));
  const amount = pos.qty - left;
  const rec: ReconcileRecord = {
    action: 'CLOSED_ON_EXCHANGE', status: 'SUCCESS', side: closingSide(pos.side), amount, price: fills.average, orderId: null,
    realisedPnl: fills.qty > 0 ? fills.pnl : null, error: null, event: `reduce:${left}`,
    response: { reconciled: true, reason: 'CLOSED_ON_EXCHANGE', partial: true, symbol, held: { side: pos.side, qty: pos.qty, avgPrice: pos.avgPrice }, left, fills },
  };
  const done = await k.store.recordReduce(pos, left, rec);
  if (done) k.log.info({ subscriptionId: pos.subscriptionId, pair: pos.pair, left }, 'futures position reduced on the exchange: recorded');
  return done;
}
