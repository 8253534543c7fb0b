/**
 * Redirects a ccxt exchange instance to another origin (scheme://host:port),
 * e.g. a local fake exchange in tests or a relay configured through
 * `EXCHANGE_URL_<ID>` in production (read by src/config, never here). ccxt's own signing, parsing and error
 * mapping keep running unchanged; only the origin of each REST URL changes.
 */

/** Minimal shape of a ccxt exchange needed here (avoids importing ccxt types). */
export interface HasApiUrls {
  urls: { api?: unknown; [key: string]: unknown };
}

/**
 * Normalises an origin given as `http://host:port` (a trailing path or slash is
 * dropped) and rejects anything that is not an absolute http(s) URL.
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

function rewriteTree(node: unknown, origin: string): unknown {
  if (typeof node === 'string') {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(node) ? replaceOrigin(node, origin) : node;
  }
  if (Array.isArray(node)) {
    return node.map((item) => rewriteTree(item, origin));
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      out[key] = rewriteTree(value, origin);
    }
    return out;
  }
  return node;
}

/**
 * Rewrites, recursively, every absolute URL string in `exchange.urls.api` so it
 * points at `origin`, keeping its path (`https://api.binance.com/api/v3` →
 * `http://127.0.0.1:4000/api/v3`). Mutates and returns the exchange.
 *
 * Note for Binance: ccxt picks its market-type-specific error tables by URL
 * prefix (`https://api.binance.com/` → `exceptions.spot`); after this rewrite
 * only the shared `exceptions.exact`/`broad` tables apply. For the codes the
 * spot API returns on order placement and auth (-1013, -1021, -1022, -2010,
 * -2011, -2013, -2015) both tables agree.
 */
export function pointCcxtAt<T extends HasApiUrls>(exchange: T, origin: string): T {
  const normalised = normaliseOrigin(origin);
  exchange.urls.api = rewriteTree(exchange.urls.api, normalised);
  return exchange;
}

