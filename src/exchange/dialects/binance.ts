/**
 * Binance spot: `newClientOrderId` (≤ 36 of [A-Za-z0-9_-], unique among OPEN orders only), lookups by
 * `origClientOrderId`, protective sells from the symbol's `orderTypes` (binance-protective.ts: market
 * stop where listed, else stop-limit; an OCO list for stop loss + take profit), quote-sized market
 * buys (`quoteOrderQty`). ccxt maps every answer we branch on to the right class.
 */
import ccxt from 'ccxt';
import { binanceProtective } from './binance-protective.js';
import type { VenueDialect } from './types.js';

export const binance: VenueDialect = {
  id: 'binance',
  ccxtOptions: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false },
  // Our ids are 36 chars of [a-z0-9]: legal as they are.
  venueClientId: (ourId) => ourId,
  createReportsFill: true,
  protectiveOrders: true,
  protective: binanceProtective,
  async findByClientId(ex, symbol, venueId) {
    try {
      return await ex.fetchOrder('', symbol, { clientOrderId: venueId }) as unknown as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return null;
      throw err;
    }
  },
  async cancelByClientId(ex, symbol, venueId) {
    try {
      return await ex.cancelOrder('', symbol, { clientOrderId: venueId }) as unknown as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound) return null;
      throw err;
    }
  },
  classify(_err, message) {
    // -2015/-2014/-1022: bad key/signature; ccxt turns -2015 into DDoSProtection once the instance has authenticated.
    if (/"code"\s*:\s*-(2015|2014|1022)\b/.test(message)) return 'auth';
    // -2010 "Duplicate order sent.": an OPEN order (or list) already carries our id, so this never refuses the
    // trade: look it up (GET /api/v3/orderList reads the database and can lag behind a list just placed).
    if (/"code"\s*:\s*-2010\b/.test(message) && message.includes('Duplicate order sent')) return 'temporary';
    return undefined;
  },
};
