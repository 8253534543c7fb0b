/**
 * Bybit v5 linear perpetuals on a unified account (ccxt `bybit`, category=linear). Facts (ccxt 4.5.84 against
 * Bybit's answers):
 * - set-leverage: unchanged leverage is retCode 110043 "Set leverage not modified" (ccxt BadRequest): done.
 * - Margin mode is ACCOUNT-WIDE on a unified account (`/v5/account/set-margin-mode`, ISOLATED_MARGIN |
 *   REGULAR_MARGIN); "already set" is 110026 (MarginModeAlreadySet): done. Switching fails while any
 *   position or order is open anywhere (3400045).
 * - Position mode: no read endpoint in ccxt; `position/list?symbol=` lists positionIdx 0 in one-way mode and
 *   1 and 2 in hedge mode (flat slots included).
 * - Stop-loss / take-profit alone go to `/v5/order/create` with triggerPrice, triggerDirection and
 *   reduceOnly, under our `orderLinkId` (unique for ever: 110072 on reuse, also after a fill). Both together
 *   would go to `/v5/position/trading-stop` with no id: never used here.
 * - Lookup: /v5/order/realtime (open + recent closed, fetchOpenOrders with orderLinkId), then
 *   /v5/order/history (fetchCanceledAndClosedOrders); "not found" is an empty list. Never fetchOrder without
 *   an id (ccxt throws a TypeError when nothing matches).
 * - A fired conditional keeps its orderId and carries the fill itself.
 * - Reduce-only with nothing to reduce: 110017.
 */
import ccxt, { type Exchange } from 'ccxt';
import { venueCode, type CcxtOrder } from './types.js';
import type { FuturesDialect } from './futures-types.js';

const code = (err: unknown) => venueCode(String((err as Error)?.message ?? ''), 'retCode');

async function findByLinkId(ex: Exchange, symbol: string, venueId: string): Promise<CcxtOrder | null> {
  const open = await ex.fetchOpenOrders(symbol, undefined, undefined, { orderLinkId: venueId }) as unknown as CcxtOrder[];
  const hit = open.find((o) => o.clientOrderId === venueId);
  if (hit) return hit;
  const done = await ex.fetchCanceledAndClosedOrders(symbol, undefined, undefined, { orderLinkId: venueId }) as unknown as CcxtOrder[];
  return done.find((o) => o.clientOrderId === venueId) ?? null;
}

export const bybitLinear: FuturesDialect = {
  id: 'bybit',
  accountWideMarginMode: true,
  async setLeverage(ex, symbol, leverage) {
    try {
      await ex.setLeverage(leverage, symbol);
    } catch (err) {
      if (code(err) === 110043) return;
      throw err;
    }
  },
  async setMarginMode(ex, symbol, mode) {
    try {
      await ex.setMarginMode(mode, symbol);
    } catch (err) {
      if (err instanceof ccxt.MarginModeAlreadySet || code(err) === 110026) return;
      throw err;
    }
  },
  async positionMode(ex, symbol) {
    const rows = await ex.fetchPositions([symbol]);
    return rows.some((p) => String((p.info as { positionIdx?: unknown })?.positionIdx ?? '0') !== '0') ? 'hedge' : 'oneWay';
  },
  findOrder: findByLinkId,
  findConditional: findByLinkId,
  async cancelConditional(ex, symbol, venueId) {
    try {
      return await ex.cancelOrder(undefined as unknown as string, symbol, { orderLinkId: venueId }) as unknown as CcxtOrder;
    } catch (err) {
      if (err instanceof ccxt.OrderNotFound || code(err) === 110001) return null;
      throw err;
    }
  },
  async fillOfTriggered(_ex, _symbol, conditional) {
    return Number(conditional.filled ?? 0) > 0 ? conditional : null;
  },
  async realisedPnl(ex, symbol, orderId, since) {
    const rows = (await ex.fetchPositionsHistory([symbol], since)).filter((p) => String((p.info as { orderId?: unknown })?.orderId ?? '') === orderId);
    if (rows.length === 0) return null;
    return rows.reduce((sum, p) => sum + Number((p.info as { closedPnl?: unknown })?.closedPnl ?? 0), 0);
  },
  modeMismatch: (message) => venueCode(message, 'retCode') === 10001 && /position idx not match position mode/i.test(message),
  nothingToReduce: (message) => venueCode(message, 'retCode') === 110017,
  classify(_err, message) {
    const c = venueCode(message, 'retCode');
    if (c === 10003 || c === 10004) return 'auth';
    if (c === 10016 || c === 110072) return 'temporary';
    // The account's position mode changed under us; re-detected before the retry (futures.ts).
    if (c === 10001 && /position idx not match position mode/i.test(message)) return 'temporary';
    return undefined;
  },
};
