/**
 * Account rows: where the database's refusals become AppErrors, so routes never see Prisma codes.
 * The unique index on User.email is what decides a race between two registrations of one address.
 */
import type { PrismaClient, User } from '@prisma/client';
import { AppError, isUniqueViolation } from '../lib/errors.js';

/** Creates an account; a taken email (Prisma P2002 on User.email) is 409 EMAIL_TAKEN. */
export async function createAccount(prisma: PrismaClient, data: { email: string; passwordHash: string; role: User['role'] }): Promise<User> {
  try {
    return await prisma.user.create({ data });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('EMAIL_TAKEN', 'an account with this email exists', 409);
    throw err;
  }
}
