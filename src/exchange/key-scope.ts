/**
 * One ccxt instance serves many API keys: its `apiKey`/`secret` are getters reading the calling job's
 * credentials from an AsyncLocalStorage, and `nonce()` returns the job's pinned timestamp while an order is
 * being signed, so concurrent jobs never see each other's keys.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Exchange } from 'ccxt';

/** The credentials (and, while an order is signed, its pinned timestamp) of the calling job. */
export interface CallScope { apiKey: string; secret: string; signedAt?: number }

/** No key: public calls and market reloads run in it, so they never carry a job's credentials. */
export const NO_KEY: CallScope = { apiKey: '', secret: '' };

const scope = new AsyncLocalStorage<CallScope>();

/** Runs `f` with these credentials on every scoped instance. */
export function inScope<T>(creds: CallScope, f: () => T): T {
  return scope.run(creds, f);
}

/**
 * Makes a ccxt instance take credentials (and a pinned timestamp) from the current scope. A market reload
 * ccxt starts inside a key's call (the shared list's background refresh) runs without a key.
 */
export function scopeCredentials(ex: Exchange): void {
  const nonce = ex.nonce.bind(ex);
  Object.defineProperty(ex, 'apiKey', { get: () => scope.getStore()?.apiKey ?? '', set: () => {}, configurable: true });
  Object.defineProperty(ex, 'secret', { get: () => scope.getStore()?.secret ?? '', set: () => {}, configurable: true });
  Object.defineProperty(ex, 'nonce', { value: () => scope.getStore()?.signedAt ?? nonce(), configurable: true, writable: true });
  const shared = ex.loadMarkets.bind(ex);
  ex.loadMarkets = (reload?: boolean, params?: object) => scope.run(NO_KEY, () => shared(reload, params));
}
