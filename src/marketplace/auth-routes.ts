/** Accounts: register and login (bcryptjs hashes, JWT). Admins come from `npm run create-admin`. */
import { Router, type RequestHandler } from 'express';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import type { PrismaClient } from '@prisma/client';
import type { TokenService } from '../http/auth.js';
import { parseBody } from '../http/validate.js';
import { AppError, isUniqueViolation } from '../lib/errors.js';
import { wrap } from '../http/wrap.js';

const credentials = z.object({
  email: z.string().trim().toLowerCase().email('must be an email address').max(254),
  password: z.string().min(8, 'must be at least 8 characters').max(200),
});
const registration = credentials.extend({ role: z.enum(['USER', 'AUTHOR']).default('USER') });

export const BCRYPT_ROUNDS = 10;
const DUMMY_HASH = bcrypt.hashSync('timing-equaliser', BCRYPT_ROUNDS);

export function authRoutes(deps: { prisma: PrismaClient; tokens: TokenService; loginLimiter: RequestHandler }): Router {
  const r = Router();
  const publicUser = (u: { id: string; email: string; role: string }) => ({ id: u.id, email: u.email, role: u.role });

  r.post('/api/auth/register', deps.loginLimiter, wrap(async (req, res) => {
    const body = parseBody(registration, req.body);
    const passwordHash = await bcrypt.hash(body.password, BCRYPT_ROUNDS);
    try {
      const user = await deps.prisma.user.create({ data: { email: body.email, passwordHash, role: body.role } });
      res.status(201).json({ token: deps.tokens.sign({ id: user.id, role: user.role }), user: publicUser(user) });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('EMAIL_TAKEN', 'an account with this email exists', 409);
      throw err;
    }
  }));

  r.post('/api/auth/login', deps.loginLimiter, wrap(async (req, res) => {
    const body = parseBody(credentials, req.body);
    const user = await deps.prisma.user.findUnique({ where: { email: body.email } });
    // Compare against a dummy hash when the user is unknown, so timing does not reveal which emails exist.
    const ok = await bcrypt.compare(body.password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new AppError('INVALID_CREDENTIALS', 'email or password is wrong', 401);
    res.json({ token: deps.tokens.sign({ id: user.id, role: user.role }), user: publicUser(user) });
  }));

  return r;
}
