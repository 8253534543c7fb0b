/**
 * JWT authentication for REST and WebSocket: HS256 tokens with { sub: userId, role }.
 * `requireAuth(...roles)` guards a route; an ADMIN passes every role check.
 */
import type { RequestHandler, Request } from 'express';
import jwt from 'jsonwebtoken';
import { AppError, forbidden, unauthorized } from '../lib/errors.js';

export type UserRole = 'USER' | 'AUTHOR' | 'ADMIN';
export interface AuthUser { id: string; role: UserRole }

export class TokenService {
  constructor(private readonly secret: string, private readonly expiresIn: string) {}

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
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m?.[1]?.trim();
}

/** Guards a route: a valid Bearer token, and one of `roles` when given (ADMIN always passes). */
export function requireAuth(tokens: TokenService, ...roles: UserRole[]): RequestHandler {
  return (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return next(unauthorized());
    try {
      const user = tokens.verify(token);
      if (roles.length && user.role !== 'ADMIN' && !roles.includes(user.role)) return next(forbidden(`requires role ${roles.join(' or ')}`));
      (req as Request & { user?: AuthUser }).user = { id: user.id, role: user.role };
      next();
    } catch (err) { next(err); }
  };
}

export function currentUser(req: Request): AuthUser {
  const u = (req as Request & { user?: AuthUser }).user;
  if (!u) throw unauthorized();
  return u;
}
