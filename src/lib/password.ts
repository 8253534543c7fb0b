/**
 * Password hashing (bcrypt). Every caller goes through these functions, so the implementation and where
 * the hashing runs are decided here.
 *
 * The work runs off the event loop: @node-rs/bcrypt (prebuilt N-API binary, no install script) hashes on
 * libuv's thread pool, so a burst of logins never stalls WebSocket fan-out, webhooks or orders (bcryptjs
 * on the main thread took ~60 ms of event loop per login). At most `HASH_CONCURRENCY` hashes run at once
 * (one core stays free for the event loop and the pool keeps threads for fs/dns); up to
 * `HASH_QUEUE_LIMIT` more wait, beyond that a login is refused with 503 instead of queueing without bound.
 * A login's account lookup runs in its slot too (`verifyLogin`), so 20 logins at once are not 20 database
 * lookups at once on the event loop (that burst alone put an unrelated request's p99 at 50–70 ms).
 * Hashes are ordinary $2a/$2b bcrypt: those written by bcryptjs verify unchanged.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

/** bcrypt cost factor for new hashes. */
export const BCRYPT_ROUNDS = 10;

/** Hashes running at once: all cores but one (at least one). */
export const HASH_CONCURRENCY = Math.max(1, (os.availableParallelism?.() ?? os.cpus().length) - 1);
/** Hashes waiting for a slot before new ones are refused (503 SERVER_BUSY). */
export const HASH_QUEUE_LIMIT = 500;

interface Backend {
  name: string;
  hash(password: string, cost: number): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}

/** The native backend; bcryptjs (on the main thread) only where no prebuilt binary exists for the platform. */
const backend: Promise<Backend> = (async () => {
  try {
    const native = await import('@node-rs/bcrypt');
    return { name: '@node-rs/bcrypt', hash: (p, cost) => native.hash(p, cost), verify: (p, h) => native.verify(p, h) };
  } catch (err) {
    process.emitWarning(`@node-rs/bcrypt did not load (${(err as Error).message}); hashing passwords with bcryptjs on the main thread`);
    const { default: bcrypt } = await import('bcryptjs');
    return { name: 'bcryptjs', hash: (p, cost) => bcrypt.hash(p, cost), verify: (p, h) => bcrypt.compare(p, h) };
  }
})();

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `task` when a hashing slot is free. */
async function inSlot<T>(task: (b: Backend) => Promise<T>): Promise<T> {
  if (running >= HASH_CONCURRENCY) {
    if (waiting.length >= HASH_QUEUE_LIMIT) throw new AppError('SERVER_BUSY', 'too many logins at once; try again in a moment', 503);
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else running++;
  try {
    return await task(await backend);
  } finally {
    const next = waiting.shift();
    if (next) next(); else running--;
  }
}

/** A bcrypt hash of `password`. */
export function hashPassword(password: string): Promise<string> {
  return inSlot((b) => b.hash(password, BCRYPT_ROUNDS));
}

/** Whether `password` matches the bcrypt `hash` (false for a malformed hash). */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return inSlot((b) => b.verify(password, hash).catch(() => false));
}

let dummy: Promise<string> | undefined;

/**
 * A login's check: `lookup` finds the account, then its password is verified, both in one hashing slot,
 * so a burst of logins is worked through HASH_CONCURRENCY at a time instead of a burst of database
 * lookups on the event loop. An unknown account (`lookup` answers null) costs the same bcrypt time, against
 * a hash of a random password, and is never `ok`: response times do not reveal which emails exist.
 */
export async function verifyLogin<T extends { passwordHash: string }>(password: string, lookup: () => Promise<T | null>): Promise<{ account: T | null; ok: boolean }> {
  // The dummy hash is made once, outside the slot (making it takes a slot of its own).
  const dummyHash = await (dummy ??= hashPassword(randomBytes(16).toString('hex')));
  return inSlot(async (b) => {
    const account = await lookup();
    const ok = await b.verify(password, account?.passwordHash ?? dummyHash).catch(() => false);
    return { account, ok: ok && account !== null };
  });
}

/** Which implementation hashes (for a start-up log line and the README's claim). */
export async function passwordBackend(): Promise<string> {
  return (await backend).name;
}
