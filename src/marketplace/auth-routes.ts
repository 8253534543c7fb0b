/** Accounts: register and login (bcrypt hashes through src/lib/password.ts, JWT). Admins come from `npm run create-admin`. */
import { Router, type RequestHandler, type Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { PrismaClient } from '@prisma/client';
import type { TokenService } from '../http/auth.js';
import { createLimiter } from '../http/rate-limit.js';
import { parseBody } from '../http/validate.js';
import { describeRoutes } from '../http/openapi.js';
import { AppError } from '../lib/errors.js';
import { hashPassword, verifyLogin } from '../lib/password.js';
import { wrap } from '../http/wrap.js';
import { createAccount } from './accounts.js';

export { BCRYPT_ROUNDS } from '../lib/password.js';

/**
 * The one email normalisation: what accounts are stored and looked up under, and what the login limit
 * counts, so " Bob@X.com" and "bob@x.com" are one account and one limit bucket.
 */
export function normaliseEmail(v: string): string {
  return v.trim().toLowerCase();
}

const credentials = z.object({
  email: z.string().transform(normaliseEmail).pipe(z.string().email('must be an email address').max(254)),
  password: z.string().min(8, 'must be at least 8 characters').max(200),
});
const registration = credentials.extend({ role: z.enum(['USER', 'AUTHOR']).default('USER') });

/** The client's address for limits: IPv6 by its /56, which one subscriber line usually holds whole. */
const clientKey = (req: Request) => ipKeyGenerator(req.ip ?? '');

/**
 * The limiters in front of register and login: per client IP, failed attempts whatever the email
 * (`perIpPerMinute`), then per client IP and normalised email, every attempt (`perEmailPerMinute`).
 * Not per email alone: a stranger could then lock an account's owner out by failing on purpose.
 */
export function loginLimiters(opts: { prefix: string; redis?: Redis; perEmailPerMinute: number; perIpPerMinute: number }): RequestHandler[] {
  const message = 'too many attempts; try again in a minute';
  return [
    createLimiter({ prefix: opts.prefix, name: 'login-ip', perMinute: opts.perIpPerMinute, redis: opts.redis, key: (req) => `ip:${clientKey(req)}`, message, skipSuccessful: true }),
    createLimiter({
      prefix: opts.prefix, name: 'login', perMinute: opts.perEmailPerMinute, redis: opts.redis, message,
      key: (req) => `login:${clientKey(req)}:${typeof req.body?.email === 'string' ? normaliseEmail(req.body.email) : ''}`,
    }),
  ];
}

export function authRoutes(deps: { prisma: PrismaClient; tokens: TokenService; loginLimiters: RequestHandler[] }): Router {
  const r = Router();
  const publicUser = (u: { id: string; email: string; role: string }) => ({ id: u.id, email: u.email, role: u.role });

  r.post('/api/auth/register', ...deps.loginLimiters, wrap(async (req, res) => {
    const body = parseBody(registration, req.body);
    const passwordHash = await hashPassword(body.password);
    const user = await createAccount(deps.prisma, { email: body.email, passwordHash, role: body.role });
    res.status(201).json({ token: deps.tokens.sign({ id: user.id, role: user.role }), user: publicUser(user) });
  }));

  r.post('/api/auth/login', ...deps.loginLimiters, wrap(async (req, res) => {
    const body = parseBody(credentials, req.body);
    // The lookup waits for a hashing slot with the verify; an unknown email costs the same bcrypt time.
    const { account: user, ok } = await verifyLogin(body.password, () => deps.prisma.user.findUnique({ where: { email: body.email } }));
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS', 'email or password is wrong', 401);
    res.json({ token: deps.tokens.sign({ id: user.id, role: user.role }), user: publicUser(user) });
  }));

  return r;
}

describeRoutes([
  { method: 'post', path: '/api/auth/register', tag: 'auth', auth: 'public', summary: 'Create an account (role USER by default, or AUTHOR) and sign in', body: registration, responses: { 201: '{ token, user }', 400: 'VALIDATION_FAILED', 409: 'EMAIL_TAKEN', 429: 'RATE_LIMITED' } },
  { method: 'post', path: '/api/auth/login', tag: 'auth', auth: 'public', summary: 'Sign in: a JWT for the Authorization: Bearer header', body: credentials, responses: { 200: '{ token, user }', 400: 'VALIDATION_FAILED', 401: 'INVALID_CREDENTIALS', 429: 'RATE_LIMITED' } },
]);
