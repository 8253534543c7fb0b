/**
 * Trade monitor bench: 10,000 active trades (50 strategies × 200 pairs, LONG and SHORT, each with its own
 * stop loss and take profit) on a fresh database, the monitor polling a fake Binance (real ccxt) every
 * 250 ms. Measures (1) one poll's evaluation when all 200 pairs move without crossing, (2) crossing →
 * CLOSE accepted for 40 trades crossed at once, (3) start-up load of the 10,000 trades.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { TradeMonitor } from '../src/monitor/index.js';
import { FakeBinance } from '../test/support/fake-exchange.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const PAIRS = 200;
const STRATEGIES = 50;
const STEP = 0.3;

/** Heap in use after a full collection (the bench process has run other benches before this one). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/**
 * Per pair, strategy k holds one trade at entry 100: even k LONG (SL 99 − k·0.3, TP 101 + k·0.3),
 * odd k SHORT (SL 101 + k·0.3, TP 99 − k·0.3). Prices inside (99, 101) cross nothing.
 */
async function seed(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(`INSERT INTO "Strategy" (id, name) SELECT gen_random_uuid(), 'bench ' || k FROM generate_series(0, $1::int - 1) k`, [STRATEGIES]);
    const n = PAIRS * STRATEGIES;
    await c.query(`UPDATE "SeqCounter" SET value = value + $1 WHERE id = 1`, [n]);
    await c.query(`
      WITH s AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM "Strategy"),
      g AS (SELECT s.id AS sid, s.k, p, gen_random_uuid() AS sig, row_number() OVER () AS seq FROM s, generate_series(0, $1::int - 1) p),
      lv AS (SELECT *, CASE WHEN k % 2 = 0 THEN 'LONG' ELSE 'SHORT' END AS dir,
               CASE WHEN k % 2 = 0 THEN 99 - k * $2::numeric ELSE 101 + k * $2::numeric END AS sl,
               CASE WHEN k % 2 = 0 THEN 101 + k * $2::numeric ELSE 99 - k * $2::numeric END AS tp FROM g),
      ins AS (INSERT INTO "Signal" (id, seq, "strategyId", pair, action, direction, price, "stopLoss", "takeProfit", source, hash)
              SELECT sig, seq, sid, 'B' || p || '/USDT', 'OPEN', dir::"Direction", 100, sl, tp, 'api', md5(sig::text) FROM lv RETURNING id)
      INSERT INTO "Trade" (id, "strategyId", pair, direction, "entryPrice", "stopLoss", "takeProfit", "openSignalId", "openSeq", "openedAt")
      SELECT gen_random_uuid(), sid, 'B' || p || '/USDT', dir::"Direction", 100, sl, tp, sig, seq, now() - interval '1 minute' FROM lv`, [PAIRS, STEP]);
    await c.query('COMMIT');
  } finally { await c.end(); }
}

async function nextPoll(m: TradeMonitor): Promise<void> {
  const before = m.feed.polls;
  while (m.feed.polls === before) await new Promise((r) => setTimeout(r, 5));
}

export default async function monitorBench(): Promise<BenchRow[]> {
  const url = await freshDatabase('sm_bench_monitor');
  await seed(url);
  const fake = new FakeBinance({ weightLimitPerMinute: 1_000_000 });
  await fake.start();
  for (let p = 0; p < PAIRS; p++) fake.addMarket({ base: `B${p}`, quote: 'USDT', price: 100, tickSize: '0.0001', stepSize: '0.001', minQty: '0.001', minNotional: '1' });
  const config = loadConfig({
    NODE_ENV: 'test', DATABASE_URL: url, ROLES: 'monitor,store', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-monitor-')),
    JWT_SECRET: randomBytes(32).toString('hex'), KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent',
    EXCHANGE_URL_BINANCE: fake.origin, MONITOR_INTERVAL_MS: '250', MONITOR_SYNC_MS: '1000',
    // The fake allows 1,000,000 weight a minute (= 200,000 ccxt units); the default budget (80 % of Binance's
    // 6,000) would pace 200-pair polls every 250 ms and this bench would measure the budget, not the monitor.
    EXCHANGE_BUDGET_PER_MINUTE_BINANCE: '200000',
  });
  const heapBefore = heapAfterGc();
  const started = performance.now();
  let app: App | undefined;
  try {
    app = await buildApp(config, { log: createLogger('silent') });
    const startMs = performance.now() - started;
    const m = (app.components.find((c) => c.name === 'monitor') as unknown as { monitor: TradeMonitor }).monitor;
    const heapMb = (heapAfterGc() - heapBefore) / 1e6;
    await nextPoll(m);

    // (1) every pair moves inside its band: 200 ticks evaluated, nothing crosses.
    const evalSamples: number[] = [];
    for (let round = 0; round < 30; round++) {
      for (let p = 0; p < PAIRS; p++) fake.setPrice(`B${p}/USDT`, round % 2 ? 100.2 + p * 0.001 : 99.8 - p * 0.001);
      await nextPoll(m);
      await nextPoll(m); // the first poll may have started before the prices moved
      evalSamples.push(m.lastEvaluateMs);
    }
    const ev = summarise(evalSamples);

    // (2) 20 pairs jump to 101.5: per pair the LONG TP 101 (k=0) and the SHORT SL 101.3 (k=1) cross.
    const crossedAt = Date.now();
    for (let p = 0; p < 20; p++) fake.setPrice(`B${p}/USDT`, 101.5);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    let rows: { t: number }[] = [];
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      ({ rows } = await db.query<{ t: number }>(`SELECT (EXTRACT(EPOCH FROM "createdAt") * 1000)::float8 AS t FROM "Signal" WHERE source = 'monitor'`));
      if (rows.length >= 40) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await db.end();
    const lat = summarise(rows.map((r) => r.t - crossedAt));
    const crossEval = m.lastEvaluateMs;
    return [
      { name: `monitor: one poll, ${PAIRS} pairs moved, ${m.book.size + rows.length} active trades, nothing crossed: evaluation p50 / p99`, value: `${ms(ev.p50)} / ${ms(ev.p99)}`, target: '< 50 ms', verdict: verdict(ev.p99 < 50) },
      { name: `monitor: price crossing → CLOSE accepted (40 trades on 20 pairs at once, 250 ms poll) p50 / max (n=${lat.n})`, value: `${ms(lat.p50)} / ${ms(lat.max)}`, target: '< 1 s', verdict: verdict(lat.n === 40 && lat.max < 1000) },
      { name: 'monitor: evaluation of the crossing poll (40 crossed)', value: ms(crossEval), target: '< 50 ms', verdict: verdict(crossEval < 50) },
      { name: `monitor: start with ${PAIRS * STRATEGIES} open trades (app start incl. migrations check + load), heap it added (after a full GC)`, value: `${ms(startMs)}, ${heapMb.toFixed(0)} MB`, target: '', verdict: '' },
    ];
  } finally {
    await app?.stop();
    await fake.stop();
  }
}
