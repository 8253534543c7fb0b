/** Real `ccxt.mexc` / `ccxt.bybit` instances wired to a FakeMexc / FakeBybit origin. */
import ccxt from 'ccxt';
import { redirectCcxtTo } from '../../../../src/exchange/local-origin.js';

/** Options of localMexc / localBybit. */
export interface LocalVenueOptions {
  apiKey?: string;
  secret?: string;
  /** ccxt request timeout, ms (default 3000). */
  timeout?: number;
  /** Extra ccxt `options`. */
  options?: Record<string, unknown>;
}

/** `new ccxt.mexc(...)`, rate limiting off, pointed at `origin`. */
export function localMexc(origin: string, opts: LocalVenueOptions = {}): InstanceType<typeof ccxt.mexc> {
  const exchange = new ccxt.mexc({
    apiKey: opts.apiKey,
    secret: opts.secret,
    enableRateLimit: false,
    timeout: opts.timeout ?? 3000,
    options: { ...opts.options },
  });
  return redirectCcxtTo(exchange, origin);
}

/**
 * `new ccxt.bybit(...)` for spot, rate limiting off, pointed at `origin`, with
 * `enableUnifiedAccount: true, enableUnifiedMargin: false` preset so ccxt skips
 * its query-api/account-info pre-calls before orders (EXCHANGES.md, Bybit §5).
 */
export function localBybit(origin: string, opts: LocalVenueOptions = {}): InstanceType<typeof ccxt.bybit> {
  const exchange = new ccxt.bybit({
    apiKey: opts.apiKey,
    secret: opts.secret,
    enableRateLimit: false,
    timeout: opts.timeout ?? 3000,
    options: { defaultType: 'spot', enableUnifiedAccount: true, enableUnifiedMargin: false, ...opts.options },
  });
  return redirectCcxtTo(exchange, origin);
}
