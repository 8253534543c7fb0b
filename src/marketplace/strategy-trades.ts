/**
 * Open trades as the strategy page lists them, with their unrealised PnL (the closed ones page by page
 * are served by strategy-trade-routes.ts).
 *
 * Unrealised PnL is the move from the market price at the open signal (`entryMarketPrice`) to the
 * reference market's current price (the trade monitor's price feed, shared through Redis with api
 * processes; a price counts while younger than PRICE_MAX_AGE_MS). Without a fresh price the trade says
 * PRICE_UNAVAILABLE and the pair is noted as wanted, so the monitor starts polling it; without a market
 * entry price it says ENTRY_NOT_VERIFIED. Neither case shows a number.
 */
import type { Trade } from '@prisma/client';
import { pnlPct } from '../signals/index.js';

/** The reference market's current prices as the strategy routes read them (ReferencePrices). */
export interface CurrentPrices {
  /** A fresh last price, or undefined when none is known or it is older than the allowed age. */
  price(pair: string): { last: number; at: number } | undefined;
  /** Asks the monitor to poll a pair nobody watches yet. */
  noteInterest?(pair: string): void;
}

export type UnrealisedStatus = 'OK' | 'PRICE_UNAVAILABLE' | 'ENTRY_NOT_VERIFIED';

const n = (d: { toString(): string } | null): number | null => (d === null ? null : Number(d.toString()));

/** An open trade with its unrealised PnL at the reference market's current price. */
export function openTradeView(t: Trade, prices: CurrentPrices | undefined) {
  const entryMarket = n(t.entryMarketPrice);
  const now = prices?.price(t.pair);
  if (!now) prices?.noteInterest?.(t.pair);
  const status: UnrealisedStatus = entryMarket === null || entryMarket <= 0 ? 'ENTRY_NOT_VERIFIED' : now ? 'OK' : 'PRICE_UNAVAILABLE';
  return {
    id: t.id, pair: t.pair, direction: t.direction, entryPrice: n(t.entryPrice)!, entryMarketPrice: entryMarket,
    priceVerified: entryMarket !== null, stopLoss: n(t.stopLoss), takeProfit: n(t.takeProfit), openedAt: t.openedAt.toISOString(),
    lastPrice: now?.last ?? null, priceAt: now ? new Date(now.at).toISOString() : null,
    unrealisedPnlPct: status === 'OK' ? pnlPct(t.direction, entryMarket!, now!.last) : null,
    unrealisedStatus: status,
  };
}
