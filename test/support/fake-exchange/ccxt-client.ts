/** A real `ccxt.binance` wired to a FakeBinance origin, spot only. */
import ccxt from 'ccxt';
import { redirectCcxtTo } from '../../../src/exchange/local-origin.js';

/** Options of localBinance. */
export interface LocalBinanceOptions {
  apiKey?: string;
  secret?: string;
  /** ccxt request timeout, ms (default 3000). */
  timeout?: number;
  /** Extra ccxt `options` merged over the spot-only ones. */
  options?: Record<string, unknown>;
}

/**
 * Options that keep ccxt.binance on /api/v3 (no sapi/fapi/dapi calls during
 * loadMarkets): spot markets only, no currency list, no margin pairs.
 */
export const SPOT_ONLY_OPTIONS = {
  defaultType: 'spot',
  fetchMarkets: { types: ['spot'] },
  fetchCurrencies: false,
  fetchMargins: false,
} as const;

/** Creates `new ccxt.binance(...)` with rate limiting off, pointed at `origin`. */
export function localBinance(origin: string, opts: LocalBinanceOptions = {}): InstanceType<typeof ccxt.binance> {
  const exchange = new ccxt.binance({
    apiKey: opts.apiKey,
    secret: opts.secret,
    enableRateLimit: false,
    timeout: opts.timeout ?? 3000,
    options: { ...SPOT_ONLY_OPTIONS, ...opts.options },
  });
  return redirectCcxtTo(exchange, origin);
}
