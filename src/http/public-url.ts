/**
 * The site's public address, for URLs handed to people and services outside (a TradingView alert's
 * webhook URL): PUBLIC_BASE_URL (else SITE_URL) when configured; unset, the origin the request came to as
 * express sees it (behind a proxy, X-Forwarded-Proto/-Host count only when TRUST_PROXY trusts the hop).
 */
import type { Request } from 'express';

export interface PublicUrl { url: string; source: 'PUBLIC_BASE_URL' | 'request' }

/** The public origin (and path prefix) of the site for this request. */
export function publicBase(configured: string | undefined, req: Request): PublicUrl {
  if (configured) return { url: configured, source: 'PUBLIC_BASE_URL' };
  return { url: `${req.protocol}://${req.host}`, source: 'request' };
}

/** The full URL TradingView posts a strategy's alerts to. */
export function webhookUrl(configured: string | undefined, req: Request, strategyId: string): PublicUrl {
  const base = publicBase(configured, req);
  return { url: `${base.url}/api/webhooks/tradingview/${strategyId}`, source: base.source };
}
