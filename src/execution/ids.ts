/**
 * Deterministic client order ids: 'sm' + the first 34 hex chars of sha256(signalId|subscriptionId|leg),
 * 36 chars, Binance-legal (^[a-zA-Z0-9-_]{1,36}$). The same (signal, subscription, leg) always yields
 * the same id, so a lookup after any unclear failure finds the one order that may exist.
 * CLIENT_ORDER_ID_SQL computes the entry id inside PostgreSQL when intents are inserted; both must agree.
 */
import { createHash } from 'node:crypto';

/**
 * entry = the OPEN order or the CLOSE order; protect = the spot stop-loss / take-profit order (or list) after an
 * entry; sl / tp = the futures reduce-only stop-loss and take-profit orders (each its own id).
 */
export type Leg = 'entry' | 'protect' | 'sl' | 'tp';

export function clientOrderId(signalId: string, subscriptionId: string, leg: Leg): string {
  return 'sm' + createHash('sha256').update(`${signalId}|${subscriptionId}|${leg}`).digest('hex').slice(0, 34);
}

/** SQL expression of the entry leg's clientOrderId over aliases `s` (Signal) and `sub` (Subscription). */
export const CLIENT_ORDER_ID_SQL = `'sm' || substr(encode(sha256(convert_to(s.id::text || '|' || sub.id::text || '|entry', 'UTF8')), 'hex'), 1, 34)`;

/** Hash identifying an exchange account in throttle keys and logs; lives with the throttle (test-keys uses it too). */
export { keyScope } from '../exchange/index.js';
