/**
 * JWT authentication for REST and WebSocket: HS256 tokens with { sub: userId, role }.
 * `requireAuth(...roles)` guards a route; an ADMIN passes every role check.
 */
import type { RequestHandler, Request } from 'express';
import jwt from 'jsonwebtoken';
import { AppError, forbidden, unauthorized } from '../lib/errors.js';

export type UserRole = 'USER' | 'AUTHOR' | 'ADMIN';
export interface AuthUser { id: string; role: UserRole }

/** How long a confirmed account is trusted before writes look it up again (ms). */
export const ACCOUNT_CHECK_TTL_MS = 5000;
const ACCOUNT_CACHE_MAX = 10_000;

export class TokenService {
  private readonly confirmed = new Map<string, number>();

  /**
   * `accountExists` (optional) tells whether a user id still has an account; requireAuth asks it before
   * writes, so a token outliving its account is refused with 401 instead of failing deeper down.
   */
  constructor(private readonly secret: string, private readonly expiresIn: string, private readonly accountExists?: (id: string) => Promise<boolean>) {}

  sign(user: AuthUser): string {
    return jwt.sign({ role: user.role }, this.secret, { subject: user.id, expiresIn: this.expiresIn as jwt.SignOptions['expiresIn'], algorithm: 'HS256' });
  }

  /** Returns the user and the token's expiry (ms since epoch); throws AppError 401 for a bad/expired token. */
  verify(token: string): AuthUser & { exp: number } {
    try {
      const p = jwt.verify(token, this.secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
      if (!p.sub || !['USER', 'AUTHOR', 'ADMIN'].includes(p.role)) throw new Error('bad claims');
      return { id: p.sub, role: p.role as UserRole, exp: (p.exp ?? 0) * 1000 };
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new AppError(expired ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID', expired ? 'token expired' : 'invalid token', 401);
    }
  }

  /**
   * Whether the account of `id` still exists. A positive answer is kept ACCOUNT_CHECK_TTL_MS, so a burst
   * of writes costs one primary-key lookup; a missing account is looked up again every time (rare).
   */
  async accountStillExists(id: string): Promise<boolean> {
    if (!this.accountExists) return true;
    const until = this.confirmed.get(id);
    if (until !== undefined && until > Date.now()) return true;
    const exists = await this.accountExists(id);
    if (exists) {
      if (this.confirmed.size >= ACCOUNT_CACHE_MAX) this.confirmed.clear();
      this.confirmed.set(id, Date.now() + ACCOUNT_CHECK_TTL_MS);
    } else this.confirmed.delete(id);
    return exists;
  }
}

/** 401 for a valid token whose account was deleted. */
export const accountGone = () => new AppError('ACCOUNT_NOT_FOUND', 'the account of this token no longer exists; log in again', 401);

/**
 * True for a foreign-key violation on a user reference (userId, authorId): a write for an account deleted
 * after requireAuth confirmed it (within ACCOUNT_CHECK_TTL_MS). The error handler answers it with 401.
 */
export function isAccountForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; meta?: { field_name?: string; constraint?: unknown; driverAdapterError?: { cause?: { kind?: string; constraint?: unknown; originalCode?: string } } }; cause?: { code?: string; constraint?: string } };
  const cause = e?.meta?.driverAdapterError?.cause;
  const fk = e?.code === 'P2003' || e?.code === '23503' || e?.cause?.code === '23503' || cause?.kind === 'ForeignKeyConstraintViolation' || cause?.originalCode === '23503';
  if (!fk) return false;
  const where = JSON.stringify([e.constraint, e.meta?.field_name, e.meta?.constraint, cause?.constraint, e.cause?.constraint]);
  return /userId|authorId/.test(where);
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m?.[1]?.trim();
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards a route: a valid Bearer token, and one of `roles` when given (ADMIN always passes). Before a
 * write (any method but GET/HEAD/OPTIONS) the token's account must still exist (401 ACCOUNT_NOT_FOUND).
 */
export function requireAuth(tokens: TokenService, ...roles: UserRole[]): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return next(unauthorized());
    let user: AuthUser;
    try {
      user = tokens.verify(token);
    } catch (err) { return next(err); }
    if (roles.length && user.role !== 'ADMIN' && !roles.includes(user.role)) return next(forbidden(`requires role ${roles.join(' or ')}`));
    const accept = () => { (req as Request & { user?: AuthUser }).user = { id: user.id, role: user.role }; next(); };
    if (READS.has(req.method)) return accept();
    tokens.accountStillExists(user.id).then((exists) => (exists ? accept() : next(accountGone())), next);
  };
}

export function currentUser(req: Request): AuthUser {
  const u = (req as Request & { user?: AuthUser }).user;
  if (!u) throw unauthorized();
  return u;
}
