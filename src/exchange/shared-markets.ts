/**
 * One market list per venue (ccxt class, market type and origin) for the whole process. Every ccxt
 * instance built by the factory gets a `loadMarkets` that serves this shared list: the first call of any
 * instance fetches it (with that instance's budget traffic class), every other instance adopts it with
 * ccxt's `setMarketsFromExchange` (the same objects, no copy, no request). ccxt calls `loadMarkets()`
 * at the start of each method, so adopting costs one comparison per call once done.
 *
 * Refresh: a list older than the TTL is reloaded in the background on the next use while callers keep
 * the current one (an order never waits for a market reload); a failed refresh is tried again at most
 * every RETRY_MS. `loadMarkets(true)` reloads at once (callers that met an unknown symbol, and the
 * reference-market list). Concurrent loads of one key share one request.
 */
import type { Exchange } from 'ccxt';

interface Entry {
  /** The instance whose last load succeeded: others adopt its markets. */
  source?: Exchange;
  loadedAt: number;
  loading?: Promise<void>;
  lastRefreshTry: number;
}

const RETRY_MS = 10_000;
const entries = new Map<string, Entry>();

/** Replaces `ex.loadMarkets` with the shared one for `key`. Mutates and returns `ex`. */
export function shareMarkets(ex: Exchange, key: string, ttlMs: number): Exchange {
  const own = ex.loadMarkets.bind(ex);
  const entry = (): Entry => {
    let e = entries.get(key);
    if (!e) entries.set(key, (e = { loadedAt: 0, lastRefreshTry: 0 }));
    return e;
  };
  const refresh = (e: Entry, params?: object): Promise<void> => (e.loading ??= own(true, params)
    .then(() => { e.source = ex; e.loadedAt = Date.now(); })
    .finally(() => { e.loading = undefined; }));

  ex.loadMarkets = async (reload = false, params?: object) => {
    const e = entry();
    if (reload || !e.source) {
      await refresh(e, params);
    } else if (Date.now() - e.loadedAt >= ttlMs && Date.now() - e.lastRefreshTry >= RETRY_MS) {
      e.lastRefreshTry = Date.now();
      refresh(e, params).catch(() => { /* the current list stays in use; tried again after RETRY_MS */ });
    }
    const source = e.source!;
    if (source !== ex && ex.markets !== source.markets) ex.setMarketsFromExchange(source);
    return ex.markets!;
  };
  return ex;
}

/** When the shared list of `key` was last loaded (ms epoch), 0 when never. */
export function marketsLoadedAt(key: string): number {
  return entries.get(key)?.loadedAt ?? 0;
}

/** Drops the lists whose last load came from one of `instances` (their owner is closing). */
export function forgetMarkets(instances: Iterable<Exchange>): void {
  const gone = new Set(instances);
  for (const [key, e] of entries) if (e.source && gone.has(e.source)) entries.delete(key);
}
