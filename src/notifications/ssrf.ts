/**
 * SSRF guard for outgoing webhooks. In production a target must be https and every address its name
 * resolves to must be public: no loopback, private, link-local (cloud metadata), CGNAT, multicast,
 * reserved, IPv6 ULA/link-local, nor an IPv4-mapped IPv6 form of those. The checked address is
 * returned and pinned for the request, so a second DNS answer cannot swap in an internal address.
 * Outside production plain http is allowed; private targets only with NOTIFY_ALLOW_PRIVATE_TARGETS.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../lib/errors.js';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, bits, 'ipv6');

/** True when `address` (IPv4 or IPv6 text) is not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:xxxx:xxxx) and IPv4-compatible forms: judge the IPv4 inside.
  const mapped = /^(?:0{0,4}:){0,5}(?:ffff:)?((?:\d{1,3}\.){3}\d{1,3})$/.exec(lower) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mapped) {
    const v4 = mapped.length === 3
      ? [parseInt(mapped[1]!, 16) >> 8, parseInt(mapped[1]!, 16) & 255, parseInt(mapped[2]!, 16) >> 8, parseInt(mapped[2]!, 16) & 255].join('.')
      : mapped[1]!;
    return isIP(v4) !== 4 || blocked.check(v4, 'ipv4');
  }
  return blocked.check(lower, 'ipv6');
}

export interface TargetPolicy { production: boolean; allowPrivate: boolean }
export interface ResolvedTarget { url: URL; address: string; family: 4 | 6 }

const refuse = (message: string) => new AppError('WEBHOOK_URL_REFUSED', message, 400);

/** Parses and checks a webhook URL without DNS (for saving): scheme, credentials, length. */
export function checkUrlShape(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try { url = new URL(raw); } catch { throw refuse('not a URL'); }
  if (raw.length > 2000) throw refuse('URL longer than 2000 characters');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !policy.production)) throw refuse('the URL must use https');
  if (url.username || url.password) throw refuse('credentials in the URL are not allowed: check the signature header instead');
  if (url.hash) url.hash = '';
  return url;
}

/** Resolves the target's name and refuses private addresses (unless the policy allows them); returns the address to pin. */
export async function resolveTarget(raw: string, policy: TargetPolicy): Promise<ResolvedTarget> {
  const url = checkUrlShape(raw, policy);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addrs: { address: string; family: number }[];
  if (isIP(host)) addrs = [{ address: host, family: isIP(host) }];
  else {
    try { addrs = await lookup(host, { all: true, verbatim: true }); } catch { throw refuse(`the host ${host} does not resolve`); }
  }
  if (!addrs.length) throw refuse(`the host ${host} does not resolve`);
  if (!policy.allowPrivate && addrs.some((a) => isPrivateAddress(a.address))) {
    throw refuse('the URL points to a private, loopback or link-local address; webhooks go to public addresses only');
  }
  const first = addrs[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
