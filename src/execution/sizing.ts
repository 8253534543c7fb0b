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
