/**
 * Puts one ccxt instance on the venue budget (budget.ts). Every REST call of ccxt passes its
 * `throttle(cost)` before the request is signed or sent, so replacing it makes every call of the
 * instance spend the shared budget; a wrapped `handleErrors` sees each response's status and headers
 * and turns a 429/418 into a pause for everyone. Tag each instance with its traffic class when creating it.
 */
import { processBudget, type Traffic, type VenueBudget, type VenueRef } from './budget.js';

/** The parts of a ccxt Exchange this module touches (avoids importing ccxt's types). */
interface Hookable {
  id: string;
  rateLimit: number;
  enableRateLimit: boolean;
  throttle: (cost?: number) => Promise<unknown>;
  calculateRateLimiterCost: (api: unknown, method: string, path: string, params: Record<string, unknown>, config?: Record<string, unknown>) => number;
  handleErrors: (status: number, statusText: string, url: string, method: string, headers: Record<string, unknown>, body: string, ...rest: unknown[]) => unknown;
}

export interface BudgetAttachment {
  /** Defaults to the process's in-memory budget (only for instances created outside the app). */
  budget?: VenueBudget;
  /** Lower-case ccxt exchange id. */
  exchangeId: string;
  /** The EXCHANGE_URL_<ID> origin when overridden: a different origin is a different venue (its own counters). */
  origin?: string;
  traffic: Traffic;
  /** Longest this instance's calls wait for budget (ms); default the budget's maxWaitMs. */
  maxWaitMs?: number;
}

/** Without Retry-After: a 429 pauses 10 s (Binance resets per minute), a ban 2 min (Binance's first ban length). */
const DEFAULT_429_MS = 10_000;
const DEFAULT_BAN_MS = 120_000;

/** The venue ref (counter key and limit) of an instance. */
export function venueRef(budget: VenueBudget, exchangeId: string, rateLimitMs: number, origin?: string): VenueRef {
  return { id: exchangeId, key: origin ? `${exchangeId}@${new URL(origin).host}` : exchangeId, limit: budget.limitFor(exchangeId, rateLimitMs) };
}

/**
 * Hooks `ex` into the budget (mutates and returns it): ccxt's limiter is replaced by the budget, Binance's
 * multi-symbol 24 h ticker is charged its documented weight, and rate-limit answers pause the venue.
 */
export function attachBudget<T>(exchange: T, a: BudgetAttachment): T {
  const ex = exchange as unknown as Hookable;
  const budget = a.budget ?? processBudget();
  const venue = venueRef(budget, a.exchangeId, Number(ex.rateLimit), a.origin);
  const maxWaitMs = a.maxWaitMs ?? budget.settings.maxWaitMs;
  ex.enableRateLimit = true; // ccxt calls throttle() only when this is on
  ex.throttle = (cost?: number) => budget.acquire(venue, Number(cost ?? 1), a.traffic, maxWaitMs);

  const cost = ex.calculateRateLimiterCost.bind(ex);
  ex.calculateRateLimiterCost = (api, method, path, params, config) => binanceTickerCost(a.exchangeId, path, params) ?? cost(api, method, path, params, config);

  const handleErrors = ex.handleErrors.bind(ex);
  ex.handleErrors = (status, statusText, url, method, headers, body, ...rest) => {
    const pause = rateLimitPause(status, headers, body);
    if (pause) void budget.pause(venue, pause.scope, pause.ms, status);
    return handleErrors(status, statusText, url, method, headers, body, ...rest);
  };
  return exchange;
}

/**
 * Binance spot GET /api/v3/ticker/24hr with `symbols`: weight 2 for 1–20 symbols, 40 for 21–100, 80 beyond
 * (Binance spot REST docs); ccxt charges 80 whenever `symbol` is absent, which would make the monitor's
 * one batched poll cost as much as 80 orders. In ccxt units (0.2 per weight).
 */
function binanceTickerCost(exchangeId: string, path: string, params: Record<string, unknown> | undefined): number | undefined {
  if (exchangeId !== 'binance' || path !== 'ticker/24hr' || typeof params?.symbols !== 'string') return undefined;
  let n: number;
  try { n = (JSON.parse(params.symbols) as unknown[]).length; } catch { return undefined; }
  const weight = n <= 20 ? 2 : n <= 100 ? 40 : 80;
  return weight * 0.2;
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? String(v[0]) : String(v);
  return undefined;
}

/** Retry-After as ms (seconds or an HTTP date), or undefined. */
function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
  const v = header(headers, 'retry-after');
  if (v === undefined || v.trim() === '') return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/**
 * What a response asks of us: 429 (too many requests) → non-order callers wait out Retry-After;
 * 418 (Binance: IP banned) and Bybit's 403 "access too frequent" (IP banned for 10 min) → everyone waits,
 * because each further request lengthens the ban.
 */
export function rateLimitPause(status: number, headers: Record<string, unknown> | undefined, body: string | undefined): { scope: 'other' | 'all'; ms: number } | undefined {
  if (status === 429) return { scope: 'other', ms: retryAfterMs(headers) ?? DEFAULT_429_MS };
  if (status === 418) return { scope: 'all', ms: retryAfterMs(headers) ?? DEFAULT_BAN_MS };
  if (status === 403 && /too frequent/i.test(body ?? '')) return { scope: 'all', ms: retryAfterMs(headers) ?? 600_000 };
  return undefined;
}
