/**
 * Sizing and risk rules of a subscription, pure functions.
 * sizing: { mode: 'quote', amount } spends a fixed quote amount; { mode: 'percent', percent } spends that
 * percent of the free quote balance. risk.maxTradePercent caps one trade at that percent of the free
 * quote balance; risk.dailyLossLimit (quote currency) stops new entries for the rest of the UTC day once
 * today's realised loss reaches it; risk.closeOnly pauses entries (CLOSE still runs).
 */
export type Sizing = { mode: 'quote'; amount: number } | { mode: 'percent'; percent: number };
export interface Risk { maxTradePercent?: number; dailyLossLimit?: number; closeOnly?: boolean }

export function parseSizing(v: unknown): Sizing | null {
  const s = v as Record<string, unknown> | null;
  if (s?.mode === 'quote' && typeof s.amount === 'number' && s.amount > 0) return { mode: 'quote', amount: s.amount };
  if (s?.mode === 'percent' && typeof s.percent === 'number' && s.percent > 0) return { mode: 'percent', percent: s.percent };
  return null;
}

export function parseRisk(v: unknown): Risk {
  const r = (v ?? {}) as Record<string, unknown>;
  return {
    maxTradePercent: typeof r.maxTradePercent === 'number' ? r.maxTradePercent : undefined,
    dailyLossLimit: typeof r.dailyLossLimit === 'number' ? r.dailyLossLimit : undefined,
    closeOnly: r.closeOnly === true,
  };
}

/** Whether sizing needs the free quote balance. */
export const needsBalance = (s: Sizing, r: Risk) => s.mode === 'percent' || r.maxTradePercent !== undefined;

/** Quote amount to spend on one entry. `free` is required when needsBalance(). */
export function quoteToSpend(s: Sizing, r: Risk, free?: number): number {
  let quote = s.mode === 'quote' ? s.amount : ((free ?? 0) * s.percent) / 100;
  if (r.maxTradePercent !== undefined) quote = Math.min(quote, ((free ?? 0) * r.maxTradePercent) / 100);
  return quote;
}

/** The refusal (code: message) of an entry below the market's minimums, or null. */
export function minimumsRefusal(amount: number, price: number, minAmount: number, minCost: number): string | null {
  if (!(amount > 0) || amount < minAmount) return `BELOW_MIN_QTY: amount ${amount} is below the market minimum ${minAmount}`;
  if (amount * price < minCost) return `BELOW_MIN_NOTIONAL: order value ${(amount * price).toFixed(8)} is below the market minimum ${minCost}`;
  return null;
}

/** The default of Subscription.maxSlippagePercent, used when a row carries no usable value. */
export const DEFAULT_MAX_SLIPPAGE_PERCENT = 2;

const fmtPrice = (p: number) => (Number.isFinite(p) ? String(Number(p.toPrecision(12))) : String(p));

/**
 * The PRICE_MOVED refusal of an entry whose venue price is more than `maxSlippagePercent` away from the
 * price the signal declares (measured against the declared price), or null. A declared price that is
 * not a positive finite number is refused too: the subscriber cannot know what the author meant.
 */
export function priceMovedRefusal(signalPrice: number, venuePrice: number, maxSlippagePercent: number): string | null {
  const limit = Number.isFinite(maxSlippagePercent) && maxSlippagePercent > 0 ? maxSlippagePercent : DEFAULT_MAX_SLIPPAGE_PERCENT;
  if (!(Number.isFinite(signalPrice) && signalPrice > 0)) {
    return `PRICE_MOVED: the signal declares no usable price (${fmtPrice(signalPrice)}); the venue's price is ${fmtPrice(venuePrice)} (limit ${limit} %)`;
  }
  const moved = (Math.abs(venuePrice - signalPrice) / signalPrice) * 100;
  // A hair of tolerance: 3060 against 3000 is exactly 2 %, which a 2 % limit allows.
  if (moved <= limit + 1e-9) return null;
  return `PRICE_MOVED: the venue's price ${fmtPrice(venuePrice)} is ${moved.toFixed(2)} % away from the signal's price ${fmtPrice(signalPrice)} (limit ${limit} %)`;
}
