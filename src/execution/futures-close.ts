/**
 * The CLOSE of a futures position: cancel whichever of the stop-loss and take-profit still rest (one that
 * already fired is looked up and its fill counted), then a reduce-only market order for what is still held,
 * whatever the price (an exit is never blocked). Realised PnL is the venue's (after the fees it books) for
 * every closing fill it reports, else computed from the fill prices, less the entry's fee where recorded. When the venue holds nothing to reduce
 * (closed on the exchange before the signal came: a stop, a liquidation, a manual close) the row says
 * CLOSED_ON_EXCHANGE with what the venue reports of those fills. The Position row is deleted in every case.
 */
import type { FuturesOrder, PositionSide } from '../exchange/index.js';
import type { FRun, FuturesSteps } from './futures-steps.js';
import { futuresPnl } from './futures-venue.js';
import type { CancelRecord, Outcome } from './types.js';

/** Clock skew and venue booking delay allowed when asking the venue for fills since the position opened (ms). */
const SINCE_MARGIN_MS = 60_000;

type Pos = NonNullable<FRun['job']['data']['position']>;

export async function closeFutures(s: FuturesSteps, r: FRun): Promise<Outcome> {
  const { job, venue, symbol } = r;
  const pos = job.data.position;
  const closeSide = pos?.side === 'short' ? 'buy' as const : 'sell' as const;
  if (!pos || !(pos.qty > 0)) return { status: 'SKIPPED', error: `NO_POSITION: the subscription holds no ${job.pair} futures position to close`, side: closeSide };
  const side: PositionSide = pos.side;
  const since = Math.max(0, pos.openedAt - SINCE_MARGIN_MS);
  await cancelResting(s, r, pos);
  const fired = [job.legs.cancelSl, job.legs.cancelTp].filter((c): c is CancelRecord => !!c && c.filled > 0);
  const firedQty = fired.reduce((a, c) => a + c.filled, 0);
  let exit = await s.lookup(r, 'entry');
  const remaining = venue.market.amountToPrecision(symbol, pos.qty - firedQty);
  let nothingHeld = false;
  if (!exit && remaining > 0) {
    exit = await s.send(r, 'entry', (cid) => venue.closePosition(symbol, side, remaining, cid));
    if (exit) exit = await s.confirmFill(r, 'entry', exit);
    else nothingHeld = true;
  }
  const fills = [...fired.map((c) => ({ qty: c.filled, price: c.average, orderId: c.fillOrderId ?? '' })), ...(exit && exit.filled > 0 ? [{ qty: exit.filled, price: exit.average, orderId: exit.orderId }] : [])];
  if (nothingHeld && !fired.length) return closedOnExchange(s, r, pos, since);
  let pnl = 0;
  let qty = 0;
  let notional = 0;
  for (const f of fills) {
    const price = f.price ?? (await s.reference(r).catch(() => ({ price: pos.avgPrice }))).price;
    pnl += (await venuePnl(s, r, f.orderId, f.qty, since)) ?? futuresPnl(side, f.qty, pos.avgPrice, price);
    qty += f.qty;
    notional += f.qty * price;
  }
  // The round trip's PnL: the entry's fee (where the venue reported it) is booked with the close, as the reconciler does.
  pnl -= pos.entryFee;
  const protect = fired.length ? `; ${fired.length === 1 ? 'a protective order' : 'both protective orders'} had filled ${firedQty} before the CLOSE` : '';
  return {
    status: 'SUCCESS', side: closeSide, amount: qty, price: qty > 0 ? notional / qty : undefined, orderId: exit?.orderId, realisedPnl: pnl,
    ...(nothingHeld ? { error: `CLOSED_ON_EXCHANGE: the venue held nothing more to reduce${protect}` } : {}),
    response: { exit: exit?.response, cancelSl: job.legs.cancelSl?.response, cancelTp: job.legs.cancelTp?.response }, position: { kind: 'close' },
  };
}

/** Cancels the resting SL and TP (idempotent: each is recorded once in the legs and saved before the close order). */
async function cancelResting(s: FuturesSteps, r: FRun, pos: Pos): Promise<void> {
  const { job, venue, symbol } = r;
  let changed = false;
  for (const [leg, cid] of [['cancelSl', pos.slClientOrderId], ['cancelTp', pos.tpClientOrderId]] as const) {
    if (!cid || job.legs[leg]) continue;
    const cancelled = await s.call(r, () => venue.cancelProtective(symbol, cid));
    let rec: CancelRecord = { filled: cancelled?.filled ?? 0, average: cancelled?.average ?? null, fillOrderId: cancelled?.fillOrderId, status: cancelled?.status ?? 'none', response: cancelled?.raw ?? null };
    if (!cancelled || cancelled.status === 'closed') {
      // Nothing open to cancel: it fired (its fill is the market order it became), or it was never there.
      const found = await s.call(r, () => venue.findProtective(symbol, cid));
      if (found) rec = { filled: found.filled, average: found.average, fillOrderId: found.fillOrderId, status: found.status, response: found.raw };
    }
    job.legs[leg] = rec;
    s.history(job, leg, rec.filled > 0 ? `had fired: ${rec.filled} filled` : `protective order ${rec.status}`);
    changed = true;
  }
  if (changed) await s.saveLegs(job);
}

/** The venue's realised PnL of one closing fill (after its fees), or null when it reports none (paper, a lookup failure). */
async function venuePnl(s: FuturesSteps, r: FRun, orderId: string, filled: number, since: number): Promise<number | null> {
  if (!orderId || s.paper) return null;
  const order = { id: orderId, fillOrderId: orderId, filled } as FuturesOrder;
  return s.call(r, () => r.venue.realisedPnl(r.symbol, order, since)).catch(() => null);
}

/** Nothing held on the venue and no protective fill of ours: what the venue reports of the fills that closed it. */
async function closedOnExchange(s: FuturesSteps, r: FRun, pos: Pos, since: number): Promise<Outcome> {
  const closes = r.venue.closes ? await s.call(r, () => r.venue.closes!(r.symbol, pos.side, since)).catch(() => null) : null;
  const side = pos.side === 'short' ? 'buy' as const : 'sell' as const;
  const known = closes && closes.qty > 0;
  return {
    status: 'SUCCESS', side, ...(known ? { amount: closes.qty, price: closes.average ?? undefined, realisedPnl: closes.pnl - pos.entryFee } : {}),
    error: `CLOSED_ON_EXCHANGE: the venue holds no ${pos.side} ${r.job.pair} position to reduce (a stop, a liquidation or a manual close came first)${known ? '' : '; its fills were not found'}`,
    response: { closes, cancelSl: r.job.legs.cancelSl?.response, cancelTp: r.job.legs.cancelTp?.response }, position: { kind: 'close' },
  };
}
