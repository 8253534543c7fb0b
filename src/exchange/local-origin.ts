/**
 * Sends a ccxt instance's REST requests to another origin (scheme://host:port): a local fake exchange in
 * tests, or a relay configured through `EXCHANGE_URL_<ID>` (read by src/config, never here).
 *
 * It works as ccxt's `fetchImplementation` (a user-supplied one is kept by ccxt 4.5.84's
 * `loadFetchImplementation`), not by rewriting `exchange.urls`: ccxt signs, sends and judges each request
 * with its real URL, and only the socket goes elsewhere. That matters for the error mapping: Binance picks
 * its spot / futures error tables by the request URL's real host (`getExceptionsByUrl` looks for
 * `https://api.binance.com/`, `https://fapi.binance.com/`, …), so with rewritten URLs -2019, -2022,
 * -4116 and -4164 would become a plain ExchangeError instead of InsufficientFunds / InvalidOrder.
 * ccxt's `proxyUrl` does not help: it rewrites the URL before the error handler sees it.
 */

/** The fetch ccxt calls: (url, init) → a WHATWG Response (status, statusText, headers, text()). */
export type FetchImplementation = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * Normalises an origin given as `http://host:port` (a trailing path or slash is dropped) and rejects
 * anything that is not an absolute http(s) URL.
 */
export function normaliseOrigin(origin: string): string {
  const parsed = new URL(origin);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`exchange origin must be http(s), got ${origin}`);
  }
  return parsed.origin;
}

/** Replaces the origin of one absolute URL, keeping path, query and hash. */
export function replaceOrigin(url: string, origin: string): string {
  const parsed = new URL(url);
  return normaliseOrigin(origin) + parsed.pathname + parsed.search + parsed.hash;
}

/**
 * A `fetchImplementation` that sends every request to `origin`, keeping path and query
 * (`https://api.binance.com/api/v3/order?…` → `http://127.0.0.1:4000/api/v3/order?…`).
 * ccxt adds node-style `timeout`/`agent` keys to `init` for a user-supplied fetch; Node's fetch ignores
 * them, and ccxt's own abort signal still enforces the timeout (→ RequestTimeout).
 */
export function redirectFetch(origin: string): FetchImplementation {
  const target = normaliseOrigin(origin);
  return (url, init) => fetch(replaceOrigin(url, target), init);
}

/**
 * Installs `redirectFetch(origin)` on an instance created elsewhere (test helpers); must run before its
 * first request (ccxt resolves its fetch once). Mutates and returns the exchange; its `urls` stay real.
 */
export function redirectCcxtTo<T extends { fetchImplementation?: unknown }>(exchange: T, origin: string): T {
  exchange.fetchImplementation = redirectFetch(origin);
  return exchange;
}
