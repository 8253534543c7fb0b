/**
 * MEXC spot v3. Facts (ccxt 4.5.84 against MEXC's answers):
 * - `newClientOrderId`: length/charset undocumented; we send ≤ 32 of [A-Za-z0-9] ('sm' + the first 30
 *   hex chars of our stored id). Unique among open orders only.
 * - Lookup `GET /api/v3/order?origClientOrderId=`: "not found" is -2013 as ccxt ExchangeError (not
 *   OrderNotFound), and MEXC answers it briefly right after a successful create: a not-found is looked
 *   at again after a pause before it counts.
 * - createOrder answers ids only (no status, no fill): the order is looked up after creating it.
 * - No spot stop orders through ccxt (it drops stopLossPrice and the order executes at once): none are sent.
 * - A bad key (10072) is BadRequest in ccxt: it is an auth failure. A JSON `{"code":500}` is ExchangeError
 *   but the outcome is unknown. Cancelling an unknown/closed order (-2011) is BadRequest: nothing to cancel.
 * - `has.fetchCurrencies` off: ccxt would fetch currencies with a signed call during loadMarkets.
 */
import type { Exchange } from 'ccxt';
import { sleep, venueCode, type CcxtOrder, type VenueDialect } from './types.js';

/** Pauses before a "not found" counts (MEXC's lag after a create; ccxt#21614). */
const RECHECK_MS = [300, 700];

async function fetchByClientId(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null> {
  try {
    return await ex.fetchOrder('', symbol, { clientOrderId: venueId }) as unknown as CcxtOrder;
  } catch (err) {
    if (venueCode(String((err as Error)?.message ?? '')) === -2013) return null;
    throw err;
  }
}

export const mexc: VenueDialect = {
  id: 'mexc',
  ccxtOptions: { defaultType: 'spot' },
  configure(ex) { (ex.has as Record<string, unknown>).fetchCurrencies = false; },
  venueClientId: (ourId) => ourId.slice(0, 32),
  createReportsFill: false,
  protectiveOrders: false,
  async findByClientId(ex, symbol, venueId) {
    for (let i = 0; ; i++) {
      const o = await fetchByClientId(ex, symbol, venueId);
      if (o || i >= RECHECK_MS.length) return o;
      await sleep(RECHECK_MS[i]!);
    }
  },
  async cancelByClientId(ex, symbol, venueId) {
    try {
      return await ex.cancelOrder('', symbol, { clientOrderId: venueId }) as unknown as CcxtOrder;
    } catch (err) {
      const code = venueCode(String((err as Error)?.message ?? ''));
      if (code === -2011 || code === -2013) return null;
      throw err;
    }
  },
  classify(_err, message) {
    const code = venueCode(message);
    if (code === 10072 || code === 700002) return 'auth';
    if (code === -2013) return 'notFound';
    if (code !== undefined && code >= 500 && code < 600) return 'temporary';
    return undefined;
  },
};
