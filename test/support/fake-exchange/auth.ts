/**
 * Binance SIGNED endpoint security: X-MBX-APIKEY must name a registered key,
 * `signature` must be HMAC-SHA256(secret, totalParams) in hex where
 * totalParams = query string + request body (without the signature itself),
 * and `timestamp` must lie within `recvWindow` of the server clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Errors } from './errors.js';
import type { Account, Params } from './types.js';

/** The raw pieces of a request that the signature covers. */
export interface SignedRequestParts {
  apiKey: string | undefined;
  rawQuery: string;
  rawBody: string;
  params: Params;
}

function withoutSignature(raw: string): string {
  return raw
    .split('&')
    .filter((pair) => pair !== '' && !pair.startsWith('signature='))
    .join('&');
}

/** Hex HMAC-SHA256 of a payload, as Binance expects. */
export function signPayload(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function signatureMatches(secret: string, parts: SignedRequestParts, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, withoutSignature(parts.rawQuery) + withoutSignature(parts.rawBody)));
  const given = Buffer.from(signature.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function checkTimestamp(params: Params, now: number): void {
  const timestamp = Number(params.timestamp);
  if (params.timestamp === undefined || !Number.isFinite(timestamp)) {
    throw Errors.mandatory('timestamp');
  }
  const recvWindow = params.recvWindow !== undefined ? Number(params.recvWindow) : 5000;
  if (!(recvWindow > 0) || recvWindow > 60_000) {
    throw Errors.recvWindowTooLarge();
  }
  if (timestamp > now + 1000) {
    throw Errors.aheadOfServer();
  }
  if (now - timestamp > recvWindow) {
    throw Errors.outsideRecvWindow();
  }
}

/** Returns the account of a correctly signed, timely request or throws Binance's error. */
export function authenticate(accounts: Map<string, Account>, parts: SignedRequestParts, now: number): Account {
  if (parts.apiKey === undefined || parts.apiKey === '') {
    throw Errors.apiKeyFormat();
  }
  const account = accounts.get(parts.apiKey);
  if (account === undefined) {
    throw Errors.invalidApiKey();
  }
  const signature = parts.params.signature;
  if (signature === undefined || signature === '') {
    throw Errors.mandatory('signature');
  }
  if (!signatureMatches(account.secret, parts, signature)) {
    throw Errors.badSignature();
  }
  checkTimestamp(parts.params, now);
  return account;
}
