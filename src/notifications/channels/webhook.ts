/**
 * Signed HTTPS webhooks. Body: { id, type, createdAt, data }. Headers:
 * `X-Signal-Marketplace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` and
 * `X-Signal-Marketplace-Event-Id` (receivers deduplicate on it: delivery is at least once).
 * The address checked by the SSRF guard is the one connected to (pinned through `lookup`); redirects
 * are not followed; only a 2xx counts as delivered.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveTarget, type TargetPolicy } from '../ssrf.js';

/** A new signing secret (shown once to the user, stored encrypted). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** The signature header value for `body` at unix second `t`. */
export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** A delivery outcome a retry cannot change (the row goes dead at once). */
export class PermanentError extends Error {}

export interface WebhookMessage { eventId: string; kind: string; createdAt: Date; payload: Record<string, unknown> }

/** POSTs one event to `url`; resolves on 2xx, throws otherwise (PermanentError for a refused target). */
export async function sendWebhook(target: { url: string; secret: string }, msg: WebhookMessage, opts: TargetPolicy & { timeoutMs: number }): Promise<void> {
  let resolved;
  try { resolved = await resolveTarget(target.url, opts); } catch (err) { throw new PermanentError((err as Error).message); }
  const body = JSON.stringify({ id: msg.eventId, type: msg.kind, createdAt: msg.createdAt.toISOString(), data: msg.payload });
  const { url, address, family } = resolved;
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const mod = url.protocol === 'https:' ? https : http;
  await new Promise<void>((resolve, reject) => {
    const req = mod.request({
      method: 'POST', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: `${url.pathname}${url.search}`, lookup,
      headers: {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'signal-marketplace-webhooks/1',
        'x-signal-marketplace-signature': signatureHeader(target.secret, body), 'x-signal-marketplace-event-id': msg.eventId,
      },
      timeout: opts.timeoutMs, agent: false,
    }, (res) => {
      res.resume(); // the answer's body is not read: only the status counts
      res.on('end', () => {
        const s = res.statusCode ?? 0;
        if (s >= 200 && s < 300) resolve();
        else reject(new Error(`HTTP ${s}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
    req.end(body);
  });
}
