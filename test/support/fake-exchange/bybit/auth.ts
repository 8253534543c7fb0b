/**
 * Bybit v5 request signing as the fakes check it (v5 guide.mdx; ccxt bybit.js
 * sign()): headers X-BAPI-API-KEY / -TIMESTAMP / -RECV-WINDOW / -SIGN, the sign
 * is hex HMAC-SHA256(secret, timestamp + key + recvWindow + raw query (GET) or
 * raw JSON body (POST)); the timestamp must satisfy
 * server − recvWindow ≤ ts < server + 1000. Shared by FakeBybit (spot) and
 * FakeBybitLinear, as is the JSON body parsing of POST requests.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Account } from '../types.js';
import type { VenueRequest } from '../venue/base.js';
import { BybitErrors } from './errors.js';

/** A single-valued request header, or undefined. */
export function bybitHeader(h: IncomingMessage['headers'], name: string): string | undefined {
  const v = h[name];
  return typeof v === 'string' ? v : undefined;
}

/** Returns the API key and account of a correctly signed, timely request, or throws Bybit's 10003/10004/10002. */
export function verifyBybitSignature(accounts: Map<string, Account>, req: VenueRequest): { apiKey: string; account: Account } {
  const apiKey = bybitHeader(req.headers, 'x-bapi-api-key');
  const account = apiKey === undefined ? undefined : accounts.get(apiKey);
  if (account === undefined || apiKey === undefined) throw BybitErrors.invalidKey();
  const ts = bybitHeader(req.headers, 'x-bapi-timestamp') ?? '';
  const recv = bybitHeader(req.headers, 'x-bapi-recv-window') ?? '5000';
  const origin = ts + apiKey + recv + (req.method === 'POST' ? req.rawBody : req.rawQuery);
  const expected = Buffer.from(createHmac('sha256', account.secret).update(origin).digest('hex'));
  const given = Buffer.from((bybitHeader(req.headers, 'x-bapi-sign') ?? '').toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw BybitErrors.badSign(origin);
  const t = Number(ts);
  if (!Number.isFinite(t) || t < req.now - Number(recv) || t >= req.now + 1000) throw BybitErrors.timestamp(ts, req.now, recv);
  return { apiKey, account };
}

/** The JSON object of a POST body ('' is {}), or Bybit's 10001 params error. */
export function bybitJsonBody(raw: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(raw === '' ? '{}' : raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw BybitErrors.params('request body is not a JSON object');
}
