/**
 * Binance USDⓈ-M futures (ccxt `binanceusdm`, fapi). Facts (ccxt 4.5.84 against Binance's answers):
 * - Leverage `POST /fapi/v1/leverage` answers success whether or not it changed.
 * - Margin type `POST /fapi/v1/marginType`: "already set" is -4046 "No need to change margin type." (ccxt
 *   MarginModeAlreadySet, or a returned body when its throwMarginModeAlreadySet option is off): done.
 * - Position mode `GET /fapi/v1/positionSide/dual` → dualSidePosition (ccxt fetchPositionMode → hedged).
 * - Since 2025-12-09 stop / take-profit orders are Algo orders: ccxt sends stopLossPrice / takeProfitPrice to
 *   `/fapi/v1/algoOrder` with `clientAlgoId`; they are found and cancelled only with `trigger: true`
 *   (without it ccxt asks /fapi/v1/order and gets -2013 → OrderNotFound, a false "not found").
 * - A fired algo order shows TRIGGERED/FINISHED (ccxt 'closed') with no fill: the fill is on the regular
 *   order `info.actualOrderId`.
 * - Client ids are unique among OPEN orders only: a lookup, not a resend, decides after an unclear failure.
 * - Reduce-only with nothing to reduce: -2022 "ReduceOnly Order is rejected."
 */
import ccxt, { type Exchange } from 'ccxt';
import { venueCode, type CcxtOrder } from './types.js';
import type { FuturesDialect } from './futures-types.js';

async function orNull<T>(f: () => Promise<T>): Promise<T | null> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ccxt.OrderNotFound) return null;
    const code = venueCode(String((err as Error)?.message ?? ''));
    if (code === -2011 || code === -2013) return null;
    throw err;
  }
}

export const binanceFutures: FuturesDialect = {
  id: 'binance',
  accountWideMarginMode: false,
  async setLeverage(ex, symbol, leverage) {
    await ex.setLeverage(leverage, symbol);
  },
  async setMarginMode(ex, symbol, mode) {
    try {
      await ex.setMarginMode(mode, symbol);
    } catch (err) {
      if (err instanceof ccxt.MarginModeAlreadySet || venueCode(String((err as Error)?.message ?? '')) === -4046) return;
      throw err;
    }
  },
  async positionMode(ex, symbol) {
    const mode = await ex.fetchPositionMode(symbol);
    return mode.hedged === true ? 'hedge' : 'oneWay';
  },
  findOrder: (ex, symbol, venueId) => orNull(async () => await ex.fetchOrder('', symbol, { clientOrderId: venueId }) as unknown as CcxtOrder),
  findConditional: (ex, symbol, venueId) => orNull(async () => await ex.fetchOrder('', symbol, { clientOrderId: venueId, trigger: true }) as unknown as CcxtOrder),
  cancelConditional: (ex, symbol, venueId) => orNull(async () => await ex.cancelOrder('', symbol, { clientOrderId: venueId, trigger: true }) as unknown as CcxtOrder),
  async fillOfTriggered(ex: Exchange, symbol, conditional) {
    const actual = String((conditional.info as { actualOrderId?: unknown } | undefined)?.actualOrderId ?? '');
    if (actual === '' || actual === '0') return null;
    return orNull(async () => await ex.fetchOrder(actual, symbol) as unknown as CcxtOrder);
  },
  async realisedPnl(ex, symbol, orderId, since) {
    const trades = (await ex.fetchMyTrades(symbol, since)).filter((t) => String(t.order ?? '') === orderId);
    if (trades.length === 0) return null;
    return trades.reduce((sum, t) => sum + Number((t.info as { realizedPnl?: unknown })?.realizedPnl ?? 0) - Number(t.fee?.cost ?? 0), 0);
  },
  modeMismatch: (message) => venueCode(message) === -4061,
  nothingToReduce: (message) => venueCode(message) === -2022,
  classify(_err, message) {
    const code = venueCode(message);
    if (code === -2015 || code === -2014 || code === -1022) return 'auth';
    // A duplicate client id (-4116) means an open order with our id exists: look it up, never a rejection.
    if (code === -4116) return 'temporary';
    // -4061: the account's position mode changed under us; re-detected before the retry (futures.ts).
    if (code === -4061) return 'temporary';
    return undefined;
  },
};
