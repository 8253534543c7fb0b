/**
 * Signal validation and normalisation. `parseSignalInput` turns an untrusted body into a SignalInput
 * or throws AppError SIGNAL_INVALID (400) with the reason: pair format BASE/QUOTE, price > 0,
 * known action/direction, stop loss and take profit on the right side of the price for the direction,
 * numbers given as numbers or numeric strings only, a timestamp at most a minute ahead of this clock.
 */
import { z } from 'zod';
import { AppError } from '../lib/errors.js';
import type { SignalInput } from './types.js';

export const PAIR_RE = /^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/;

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);
// Prices are stored as DECIMAL(30,12): below 1e-12 would round to 0, at 1e18 it would overflow.
// A number, or a numeric string (TradingView placeholders arrive as text); never a boolean, array or object
// (`z.coerce` turned `true` into 1: a price of 1 bought 100 SOL for 15,000 USDT).
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const numeric = (name: string) => z.preprocess(
  (v) => (typeof v === 'string' && DECIMAL_RE.test(v.trim()) ? Number(v.trim()) : v),
  z.number({ error: `${name} must be a number (or a numeric string)` }),
);
const positive = (name: string) =>
  numeric(name).refine(Number.isFinite, `${name} must be finite`).refine((n) => n > 0, `${name} must be > 0`)
    .refine((n) => n >= 1e-12, `${name} must be at least 0.000000000001`).refine((n) => n < 1e15, `${name} must be below 1e15`);
// PostgreSQL text cannot hold NUL.
const text = (name: string, max: number) => z.string().max(max, `${name} is at most ${max} characters`).refine((v) => !v.includes('\u0000'), `${name} must not contain NUL characters`);

/** A signal's fields as posted (also the API document's request body). */
export const signalBodySchema = z.object({
  pair: z.preprocess(upper, z.string({ error: 'pair is required' }).regex(PAIR_RE, 'pair must look like BASE/QUOTE, e.g. BTC/USDT')),
  action: z.preprocess(upper, z.enum(['OPEN', 'CLOSE'], { error: 'action must be OPEN or CLOSE' })),
  direction: z.preprocess(upper, z.enum(['LONG', 'SHORT'], { error: 'direction must be LONG or SHORT' })).optional(),
  price: positive('price'),
  stopLoss: positive('stopLoss').optional().nullable(),
  takeProfit: positive('takeProfit').optional().nullable(),
  note: text('note', 1000).optional().nullable(),
  idempotencyKey: text('idempotencyKey', 200).refine((v) => v.length > 0, 'idempotencyKey must not be empty').optional().nullable(),
  timestamp: z.union([z.number(), z.string()]).optional().nullable(),
});

/** Parses a timestamp given as epoch seconds, epoch ms, or an ISO string; undefined if absent. */
export function parseTimestamp(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\d+(\.\d+)?$/.test(String(v)) ? Number(v) : Date.parse(String(v));
  if (!Number.isFinite(n)) throw new AppError('SIGNAL_INVALID', 'timestamp must be epoch seconds, epoch ms or ISO 8601', 400);
  return n < 1e12 ? n * 1000 : n;
}

/** How far ahead of this server's clock an alert's time may be (clock skew), ms. */
export const MAX_FUTURE_MS = 60_000;

/** Validates one signal body for `strategyId`. Throws AppError SIGNAL_INVALID (400) with a reason. */
export function parseSignalInput(strategyId: string, body: unknown): SignalInput {
  const r = signalBodySchema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new AppError('SIGNAL_INVALID', issue.message, 400, { details: { field: issue.path.join('.') } });
  }
  const b = r.data;
  if (b.action === 'OPEN' && !b.direction) throw new AppError('SIGNAL_INVALID', 'direction is required for OPEN', 400);
  const input: SignalInput = {
    strategyId,
    pair: b.pair,
    action: b.action,
    direction: b.direction,
    price: b.price,
    stopLoss: b.stopLoss ?? undefined,
    takeProfit: b.takeProfit ?? undefined,
    note: b.note ?? undefined,
    idempotencyKey: b.idempotencyKey ?? undefined,
    timestamp: parseTimestamp(b.timestamp),
  };
  // A time in the future would pass every staleness check for as long as it stays ahead.
  if (input.timestamp !== undefined && input.timestamp > Date.now() + MAX_FUTURE_MS) {
    throw new AppError('SIGNAL_INVALID', `timestamp ${new Date(input.timestamp).toISOString()} is more than ${MAX_FUTURE_MS / 1000} s in the future`, 400, { details: { field: 'timestamp' } });
  }
  checkLevels(input);
  return input;
}

/** Stop loss below and take profit above the price for LONG; mirrored for SHORT. OPEN only. */
export function checkLevels(s: SignalInput): void {
  if (s.action === 'CLOSE') {
    if (s.stopLoss !== undefined || s.takeProfit !== undefined) {
      throw new AppError('SIGNAL_INVALID', 'stopLoss and takeProfit apply to OPEN signals only', 400);
    }
    return;
  }
  const long = s.direction === 'LONG';
  if (s.stopLoss !== undefined && (long ? s.stopLoss >= s.price : s.stopLoss <= s.price)) {
    throw new AppError('SIGNAL_INVALID', `stopLoss must be ${long ? 'below' : 'above'} the price for a ${s.direction} signal`, 400);
  }
  if (s.takeProfit !== undefined && (long ? s.takeProfit <= s.price : s.takeProfit >= s.price)) {
    throw new AppError('SIGNAL_INVALID', `takeProfit must be ${long ? 'above' : 'below'} the price for a ${s.direction} signal`, 400);
  }
}
