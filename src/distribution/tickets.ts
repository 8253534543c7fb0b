/**
 * Upgrade tickets: a browser cannot set an Authorization header on a WebSocket, and a JWT in the URL
 * lands in proxy access logs and browser history for its whole lifetime. So the page asks
 * POST /api/ws-ticket (Bearer JWT) for a ticket and opens /ws/signals?ticket=<it>: 256 random bits,
 * bound to the user (and the JWT's expiry, which still ends the socket), valid `ttlMs` (30 s), and
 * redeemable once. With Redis (PM2 cluster) the ticket lives in Redis and is redeemed with GETDEL, so
 * any worker can take it and no two can; without Redis, in this process's memory.
 * Only a SHA-256 of the ticket is stored: a Redis dump or a heap snapshot holds nothing usable.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { UserRole } from '../http/auth.js';

/** Who a ticket stands for. `exp`: the issuing JWT's expiry (ms since epoch), 0 = none. */
export interface TicketClaims { id: string; role: UserRole; exp: number }

/** Issues and redeems single-use upgrade tickets. */
export interface TicketStore {
  /** A fresh ticket for `claims`; `expiresAt` in ms since epoch. */
  issue(claims: TicketClaims): Promise<{ ticket: string; expiresAt: number }>;
  /** The claims of a valid, unused ticket, consuming it; null for an unknown, used or expired one. */
  redeem(ticket: string): Promise<TicketClaims | null>;
}

/** A ticket as sent: 43 base64url characters (32 bytes). Anything else is refused without a lookup. */
const TICKET_RE = /^[A-Za-z0-9_-]{43}$/;
const digest = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/** Tickets in Redis under `<prefix>wsticket:<sha256>`, expiring with PX and redeemed with GETDEL. */
export class RedisTicketStore implements TicketStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly ttlMs: number) {}

  async issue(claims: TicketClaims) {
    const ticket = randomBytes(32).toString('base64url');
    await this.redis.set(`${this.prefix}wsticket:${digest(ticket)}`, JSON.stringify(claims), 'PX', this.ttlMs);
    return { ticket, expiresAt: Date.now() + this.ttlMs };
  }

  async redeem(ticket: string) {
    if (!TICKET_RE.test(ticket)) return null;
    const raw = await this.redis.getdel(`${this.prefix}wsticket:${digest(ticket)}`);
    return raw ? (JSON.parse(raw) as TicketClaims) : null;
  }
}

/** Tickets in this process (no Redis: a single process, so the ticket comes back here). */
export class MemoryTicketStore implements TicketStore {
  private readonly tickets = new Map<string, { claims: TicketClaims; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  async issue(claims: TicketClaims) {
    this.sweep();
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + this.ttlMs;
    this.tickets.set(digest(ticket), { claims, expiresAt });
    return { ticket, expiresAt };
  }

  async redeem(ticket: string) {
    if (!TICKET_RE.test(ticket)) return null;
    const key = digest(ticket);
    const hit = this.tickets.get(key);
    this.tickets.delete(key);
    return hit && hit.expiresAt > Date.now() ? hit.claims : null;
  }

  /** Drops expired tickets (Map keeps insertion order, and every ticket has the same lifetime). */
  private sweep(): void {
    const now = Date.now();
    for (const [k, v] of this.tickets) {
      if (v.expiresAt > now) break;
      this.tickets.delete(k);
    }
  }
}
