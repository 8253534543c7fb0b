/**
 * Strategy bots: what an author may attach to a strategy (a built-in chart strategy with its parameters,
 * pairs, timeframe and chart exchange) and the capture targets an enabled bot becomes (one per pair).
 * Every parameter is validated per built-in kind here (bounds below); a bad one is a 400 naming the field.
 * Bounds: periods are whole numbers small enough to be computed on the 300 candles a bot's chart page
 * loads (BOT_CANDLES), so a bot can always draw markers; fast < slow; 0 <= oversold < overbought <= 100;
 * Bollinger stdDev < sqrt(period - 1) (above it a close can never exceed its own upper band).
 */
import { z } from 'zod';
import { PAIR_RE } from '../signals/index.js';
import { strategies, strategyKinds, type StrategyKind } from './strategies/index.js';
import { TIMEFRAME_SECONDS, type CaptureTarget } from './targets.js';

/** Candles a bot's chart page loads (the page's `limit`). */
export const BOT_CANDLES = 300;
/** Pairs one bot may watch. */
export const BOT_MAX_PAIRS = 5;
/** Timeframes a bot may use: every chart timeframe but 1s (a bot is visited every BOT_INTERVAL_SECONDS). */
export const BOT_TIMEFRAMES = Object.keys(TIMEFRAME_SECONDS).filter((t) => t !== '1s');

const int = (min: number, max: number) => z.number().int(`must be a whole number`).min(min).max(max);
const level = z.number().min(0).max(100);

const paramSchemas = {
  'ma-crossover': z.object({ fast: int(1, 199), slow: int(2, 200), kind: z.enum(['sma', 'ema']) }).strict()
    .refine((p) => p.fast < p.slow, { message: 'fast must be smaller than slow', path: ['fast'] }),
  'rsi-divergence': z.object({ period: int(2, 100), lookback: int(2, 100), oversold: level, overbought: level }).strict()
    .refine((p) => p.oversold < p.overbought, { message: 'oversold must be below overbought', path: ['oversold'] }),
  'bollinger-breakout': z.object({ period: int(2, 200), stdDev: z.number().gt(0).max(10) }).strict()
    .refine((p) => p.stdDev < Math.sqrt(p.period - 1), { message: 'stdDev must be below sqrt(period - 1), or the close can never exceed the upper band', path: ['stdDev'] }),
  'macd-trend': z.object({ fast: int(1, 99), slow: int(2, 100), signal: int(1, 50) }).strict()
    .refine((p) => p.fast < p.slow, { message: 'fast must be smaller than slow', path: ['fast'] }),
} satisfies Record<StrategyKind, z.ZodType>;

/** The zod schema of one kind's parameters (for the API document). */
export const botParamSchema = (kind: StrategyKind) => paramSchemas[kind];

/**
 * Validates `params` for `kind`, missing ones taken from the kind's defaults.
 * @returns the complete parameters, or the first problem as `params.<field>: <message>`
 */
export function checkBotParams(kind: StrategyKind, params: unknown): { ok: true; params: Record<string, number | string> } | { ok: false; field: string; message: string } {
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) return { ok: false, field: 'params', message: 'must be an object' };
  const r = paramSchemas[kind].safeParse({ ...strategies[kind].defaults, ...(params as object | undefined) });
  if (r.success) return { ok: true, params: r.data as Record<string, number | string> };
  const issue = r.error.issues[0]!;
  const field = ['params', ...issue.path.map(String)].join('.');
  const message = issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')} for ${kind} (known: ${Object.keys(strategies[kind].defaults).join(', ')})` : issue.message;
  return { ok: false, field, message };
}

const pairs = z.array(z.string().trim().toUpperCase().regex(PAIR_RE, 'must look like BASE/QUOTE')).min(1, 'give at least one pair').max(BOT_MAX_PAIRS)
  .transform((ps) => [...new Set(ps)]);

/** POST body (params are checked afterwards by checkBotParams, against the kind). */
export const botCreateSchema = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  builtin: z.enum(strategyKinds as [StrategyKind, ...StrategyKind[]]).describe('built-in strategy kind'),
  params: z.record(z.string(), z.unknown()).optional().describe('the kind\'s parameters; missing ones take its defaults'),
  pairs,
  timeframe: z.enum(BOT_TIMEFRAMES as [string, ...string[]]),
  exchange: z.string().trim().toLowerCase().optional().describe('chart exchange the candles come from (one of CHART_EXCHANGES)'),
  enabled: z.boolean().default(false),
}).strict();

/** PATCH body: any of the fields; a new builtin without params takes that kind's defaults. */
export const botPatchSchema = botCreateSchema.omit({ enabled: true }).partial().extend({ enabled: z.boolean().optional() }).strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one field to change');

/** A stored bot as the capturer needs it. */
export interface BotRow {
  id: string; strategyId: string; builtin: string; params: unknown; pairs: string[]; timeframe: string; exchange: string; enabled: boolean;
}

/** The capture targets of an enabled bot: one per pair, visited every `intervalSeconds`. Unknown kinds give none. */
export function botTargets(bot: BotRow, intervalSeconds: number): CaptureTarget[] {
  if (!strategyKinds.includes(bot.builtin as StrategyKind) || !bot.enabled) return [];
  const checked = checkBotParams(bot.builtin as StrategyKind, bot.params);
  if (!checked.ok) return [];
  return bot.pairs.map((pair) => ({
    id: `bot:${bot.id}:${pair}`, botId: bot.id, strategyId: bot.strategyId, pair, timeframe: bot.timeframe, exchange: bot.exchange,
    strategy: bot.builtin as StrategyKind, params: checked.params, limit: BOT_CANDLES, intervalSeconds, extractor: 'chart-page', autoCreate: false,
  }));
}
