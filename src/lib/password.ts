/**
 * Password hashing (bcrypt). Every caller goes through these two functions, so the implementation
 * (and where the hashing runs) is decided here.
 */
import bcrypt from 'bcryptjs';

/** bcrypt cost factor for new hashes. */
export const BCRYPT_ROUNDS = 10;

/** A bcrypt hash of `password`. */
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_ROUNDS);
}

/** Whether `password` matches the bcrypt `hash`. */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
