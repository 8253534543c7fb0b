/**
 * Real `ccxt.binanceusdm` / `ccxt.bybit` (linear) instances wired to a futures
 * fake. ccxt keeps its real https URLs (so Binance's futures error table, keyed
 * by the request URL's host, maps -2019/-2022/-4164 as in production) and a
 * custom `fetchImplementation` sends each request to the fake's origin.
 * Options as the app's futures profile uses them: linear markets only, no
 * currency list (it would call /sapi), Bybit's unified account preset.
 */
import ccxt, { type Exchange } from 'ccxt';

/** Options of localBinanceUsdm / localBybitLinear. */
export interface LocalFuturesOptions {
  apiKey?: string;
  secret?: string;
  /** ccxt request timeout, ms (default 3000). */
  timeout?: number;
  options?: Record<string, unknown>;
}

/** A fetch that sends ccxt's request for `https://host/path?q` to `origin/path?q`. */
export function fetchTo(origin: string): (url: string, init?: RequestInit) => Promise<Response> {
  const target = new URL(origin).origin;
  return (url, init) => {
    const u = new URL(url);
    return fetch(target + u.pathname + u.search, init);
  };
}

export const BINANCE_USDM_OPTIONS = { defaultType: 'swap', fetchMarkets: { types: ['linear'] }, fetchCurrencies: false, fetchMargins: false } as const;
export const BYBIT_LINEAR_OPTIONS = { defaultType: 'swap', defaultSubType: 'linear', fetchMarkets: { types: ['linear'] }, enableUnifiedAccount: true, enableUnifiedMargin: false } as const;

/** `new ccxt.binanceusdm(...)`, rate limiting off, its requests sent to `origin`. */
export function localBinanceUsdm(origin: string, opts: LocalFuturesOptions = {}): Exchange {
  return new ccxt.binanceusdm({
    apiKey: opts.apiKey, secret: opts.secret, enableRateLimit: false, timeout: opts.timeout ?? 3000,
    options: { ...BINANCE_USDM_OPTIONS, ...opts.options }, fetchImplementation: fetchTo(origin),
  }) as unknown as Exchange;
}

/** `new ccxt.bybit(...)` for linear perpetuals, rate limiting off, its requests sent to `origin`. */
export function localBybitLinear(origin: string, opts: LocalFuturesOptions = {}): Exchange {
  return new ccxt.bybit({
    apiKey: opts.apiKey, secret: opts.secret, enableRateLimit: false, timeout: opts.timeout ?? 3000,
    options: { ...BYBIT_LINEAR_OPTIONS, ...opts.options }, fetchImplementation: fetchTo(origin),
  }) as unknown as Exchange;
}
