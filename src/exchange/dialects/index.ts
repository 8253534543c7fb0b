/** The venues the executor trades, by ccxt id. See types.ts for how to add one. */
import { binance } from './binance.js';
import { bybit } from './bybit.js';
import { mexc } from './mexc.js';
import type { VenueDialect } from './types.js';

export type { VenueDialect } from './types.js';

const DIALECTS: Readonly<Record<string, VenueDialect>> = { binance, mexc, bybit };

/** Ids of the venues with a dialect (the ones subscriptions may choose). */
export const DIALECT_IDS = Object.keys(DIALECTS) as readonly string[];

/** The venue's dialect, or undefined when the executor does not trade it. */
export function dialectFor(exchangeId: string): VenueDialect | undefined {
  return Object.prototype.hasOwnProperty.call(DIALECTS, exchangeId) ? DIALECTS[exchangeId] : undefined;
}
