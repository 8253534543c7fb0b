/** Assertion helper for ccxt calls that must fail against the fake exchanges. */
import assert from 'node:assert/strict';

export type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Awaits a rejection and checks its class; returns the error. `expect` further checks the
 * message (ccxt quotes the venue's body in it): a RegExp to match, or JSON fields with their
 * numeric value, e.g. `{ code: -2022 }` (Binance) or `{ retCode: 110017 }` (Bybit).
 */
export async function rejectsWith(promise: Promise<unknown>, errorClass: ErrorClass, expect?: RegExp | Record<string, number>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
    if (expect instanceof RegExp) assert.match(error.message, expect);
    else for (const [field, value] of Object.entries(expect ?? {})) assert.match(error.message, new RegExp(`"${field}":${value}\\b`));
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${errorClass.name}, but it resolved` });
}
