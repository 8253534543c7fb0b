/**
 * Bybit v5 spot on a unified account. Facts (ccxt 4.5.84 against Bybit's answers):
 * - `orderLinkId`: ≤ 36 of [A-Za-z0-9_-], unique for ever: our stored id as it is.
 * - Lookup: `/v5/order/realtime` (open + the last 500 closed, wiped on a Bybit restart) through
 *   fetchOpenOrders({orderLinkId}), then `/v5/order/history` (7 days; cancelled-unfilled 24 h) through
 *   fetchCanceledAndClosedOrders({orderLinkId}). Not found = an empty list. Never fetchOrder without an
 *   id (ccxt throws a TypeError when nothing matches).
 * - createOrder answers ids only: the order is looked up after creating it.
 * - Market buy by cost: ccxt sends the quote amount as `qty` (quote-denominated for spot market buys).
 * - Preset enableUnifiedAccount/enableUnifiedMargin so ccxt skips its query-api/account-info pre-calls.
 * - 10003/10004 bad key/sign → AuthenticationError; 10016 "Server error." → ExchangeError, outcome unknown.
 * - No exchange-side stops yet (protectiveOrders false: the trade monitor's CLOSE is the stop). Bybit v5
 *   spot has TP/SL orders, but through ccxt 4.5.84: a spot stopLossPrice becomes `orderFilter=tpslOrder`
 *   with reduceOnly (the coins are locked when it is placed); stop loss and take profit together are
 *   refused by ccxt itself (InvalidOrder), so at most one level could rest; a cancel must pass
 *   `orderFilter: 'tpslOrder'` (ccxt sends 'Order' by default, which misses it, so a CLOSE could not free
 *   the coins); and what a fired tpsl order becomes (same orderLinkId or a new order, which status, kept how
 *   long in realtime/history) is not verified against Bybit, so neither a CLOSE nor a lookup after an
 *   unclear failure could count its fill reliably. Until a fake reproduces that lifecycle from Bybit's own
 *   answers, resting one would risk a CLOSE that sells coins a fired stop already sold.
 */
import ccxt from 'ccxt';
import type { CcxtOrder, VenueDialect } from './types.js';
import { venueCode } from './types.js';

export const bybit: VenueDialect = {
  id: 'bybit',
  ccxtOptions: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, enableUnifiedAccount: true, enableUnifiedMargin: false },
  venueClientId: (ourId) => ourId,
  createReportsFill: false,
  protectiveOrders: false,
  async findByClientId(ex, symbol, venueId) {
    const open = await ex.fetchOpenOrders(symbol, undefined, undefined, { orderLinkId: venueId }) as unknown as CcxtOrder[];
    const hit = open.find((o) => o.clientOrderId === venueId);
    if (hit) return hit;
    const done = await ex.fetchCanceledAndClosedOrders(symbol, undefined, undefined, { orderLinkId: venueId }) as unknown as CcxtOrder[];
    return done.find((o) => o.clientOrderId === venueId) ?? null;
  },
  async cancelByClientId(ex, symbol, venueId) {
    try {
      return await ex.cancelOrder(undefined as unknown as string, symbol, { orderLinkId: venueId }) as unknown as CcxtOrder;
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return null;
      throw err;
    }
  },
  classify(_err, message) {
    const code = venueCode(message, 'retCode');
    if (code === 10003 || code === 10004) return 'auth';
    if (code === 10016) return 'temporary';
    // "Duplicate orderLinkId" (spot 170141, linear 110072): an order with our id exists, so this is never a
    // rejection of the trade: look it up (a lookup that missed it, e.g. realtime wiped by a restart, retries).
    if (code === 170141 || code === 110072) return 'temporary';
    return undefined;
  },
};
