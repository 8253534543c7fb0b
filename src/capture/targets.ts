/**
 * Capture targets: what the capturer visits, read from a JSON file (CAPTURE_TARGETS_FILE).
 * A target = one strategy on one pair/timeframe, drawn by a chart page (ours by default), visited
 * every `intervalSeconds`, read by the named extractor. Format (docs/capture.md):
 *   [{ "strategyId": "<uuid>", "name": "BTC MA 9/21", "pair": "BTC/USDT", "timeframe": "1m",
 *      "exchange": "binance", "strategy": "ma-crossover", "params": { "fast": 9, "slow": 21 },
 *      "intervalSeconds": 60, "extractor": "chart-page", "autoCreate": true }]
 * Optional: `url` (another chart page; default ours at /charts/:strategyId?…), `limit` (candles),
 * `fixture` (offline candle file name), `backfillSeconds` (overrides CAPTURE_BACKFILL_SECONDS).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PAIR_RE } from '../signals/index.js';
import { isStrategyKind, type StrategyKind } from './strategies/index.js';

/** Candle timeframes the chart pages accept, in seconds. */
export const TIMEFRAME_SECONDS: Readonly<Record<string, number>> = Object.freeze({
  '1s': 1, '1m': 60, '3m': 180, '5m': 300, '15m': 900, '30m': 1800, '1h': 3600, '2h': 7200, '4h': 14_400,
  '6h': 21_600, '8h': 28_800, '12h': 43_200, '1d': 86_400, '3d': 259_200, '1w': 604_800,
});

const paramValue = z.union([z.number().finite(), z.string().max(40)]);

const targetSchema = z.object({
  strategyId: z.string().uuid(),
  name: z.string().trim().min(1).max(100).optional(),
  url: z.string().url().refine((u) => /^https?:/.test(u), 'must be http(s)').optional(),
  pair: z.string().trim().toUpperCase().regex(PAIR_RE, 'must look like BASE/QUOTE'),
  timeframe: z.string().refine((t) => t in TIMEFRAME_SECONDS, `must be one of ${Object.keys(TIMEFRAME_SECONDS).join(' ')}`).default('1m'),
  exchange: z.string().regex(/^[a-z0-9]+$/).default('binance'),
  strategy: z.string().refine(isStrategyKind, 'is not a built-in strategy kind').transform((s) => s as StrategyKind),
  params: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), paramValue).default({}),
  limit: z.number().int().min(10).max(1000).optional(),
  fixture: z.string().regex(/^[\w-]+$/).optional(),
  intervalSeconds: z.number().min(0.05).max(86_400).default(60),
  extractor: z.string().default('chart-page'),
  autoCreate: z.boolean().default(false),
  backfillSeconds: z.number().min(0).optional(),
}).strict();

/** One validated capture target. */
export type CaptureTarget = z.output<typeof targetSchema> & {
  /** Stable id for logs and metric labels: name, else strategyId/pair/timeframe (a bot's: bot:<botId>:<pair>). */
  id: string;
  /** Set for a strategy bot's target (TradingBot id; never from the file): its outcomes are recorded on the bot. */
  botId?: string;
};

/** Result of reading a targets file: the valid targets and one message per invalid entry. */
export interface TargetsRead { targets: CaptureTarget[]; errors: string[] }

/**
 * Validates a parsed targets document (an array). Invalid entries are reported, not fatal, so one
 * typo never stops the other targets.
 * @param doc parsed JSON
 * @param extractorNames names a target may use as `extractor`
 */
export function parseTargets(doc: unknown, extractorNames: readonly string[]): TargetsRead {
  if (!Array.isArray(doc)) return { targets: [], errors: ['capture targets file must hold a JSON array'] };
  const targets: CaptureTarget[] = [];
  const errors: string[] = [];
  const ids = new Set<string>();
  doc.forEach((raw, i) => {
    const r = targetSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      errors.push(`target ${i}: ${issue.path.join('.') || '(entry)'} ${issue.message}`);
      return;
    }
    if (!extractorNames.includes(r.data.extractor)) {
      errors.push(`target ${i}: extractor "${r.data.extractor}" is unknown (known: ${extractorNames.join(', ')})`);
      return;
    }
    const id = r.data.name ?? `${r.data.strategyId}/${r.data.pair}/${r.data.timeframe}`;
    if (ids.has(id)) { errors.push(`target ${i}: duplicate target "${id}"`); return; }
    ids.add(id);
    targets.push({ ...r.data, id });
  });
  return { targets, errors };
}

/**
 * Reads and validates the targets file. A missing file means no targets (not an error).
 * @throws never; unreadable or malformed JSON is reported in `errors`
 */
export async function readTargetsFile(file: string, extractorNames: readonly string[]): Promise<TargetsRead & { text: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { targets: [], errors: [], text: '' };
    return { targets: [], errors: [`cannot read ${file}: ${(err as Error).message}`], text: '' };
  }
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (err) { return { targets: [], errors: [`${file} is not valid JSON: ${(err as Error).message}`], text }; }
  return { ...parseTargets(doc, extractorNames), text };
}

/** Our chart page for a target: /charts/:strategyId?pair=&tf=&strategy=&exchange=[&limit][&fixture]&<params>. */
export function chartUrl(baseUrl: string, t: Pick<CaptureTarget, 'strategyId' | 'pair' | 'timeframe' | 'exchange' | 'strategy' | 'params' | 'limit' | 'fixture'>): string {
  const q = new URLSearchParams({ pair: t.pair, tf: t.timeframe, strategy: t.strategy, exchange: t.exchange });
  if (t.limit !== undefined) q.set('limit', String(t.limit));
  if (t.fixture !== undefined) q.set('fixture', t.fixture);
  for (const [k, v] of Object.entries(t.params)) q.set(k, String(v));
  return `${baseUrl}/charts/${t.strategyId}?${q.toString()}`;
}

/** The target's page URL: its own `url`, else our chart page. */
export function targetUrl(baseUrl: string, t: CaptureTarget): string {
  return t.url ?? chartUrl(baseUrl, t);
}
