/** What the spot and the futures runner both need, and the one way they open a subscription's keys. */
import type { KeyThrottle } from '../exchange/index.js';
import type { KeyEnvelope, OpenKeys, SubscriptionKeys } from '../subscriptions/index.js';
import type { JobStore } from './job-store.js';
import { KeysNotReadable } from './types.js';

export interface RunnerBaseDeps {
  /** Opens the subscription's sealed keys; records keys the exchange refused (the subscriptions module). */
  keys: SubscriptionKeys;
  throttle: KeyThrottle;
  store: JobStore;
  mode: 'paper' | 'live';
  paperBalance: number;
  recvWindowMs: number;
  maxAttempts: number;
}

/** The subscription's keys; KeysNotReadable when this process cannot decrypt them (another one may). */
export function openKeys(keys: SubscriptionKeys, sub: KeyEnvelope): OpenKeys {
  try {
    return keys.openKeys(sub);
  } catch {
    throw new KeysNotReadable();
  }
}
