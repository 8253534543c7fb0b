/**
 * Marketplace list bench (issue 21): GET /api/strategies with 1,000 strategies and 100,000 closed trades
 * (100 per strategy, both legs with a market price, closed over the last 120 days; 200,000 signals),
 * 25 rows a page as the site asks. Rows: p50/p99 of the newest-first page (no trade touched), of the
 * pages sorted by performance columns (total PnL, 30-day return, Sharpe, max drawdown; a later page) and
 * filtered by trade count, of a sorted page right after a trade close (the kept aggregates of
 * src/marketplace/trade-aggregates.ts bring that strategy up to date), and after a trade written around
 * the coordinator (everything computed again: the worst case). Target for a performance sort: p99 < 1 s.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const STRATEGIES = 1000;
const TRADES_PER_STRATEGY = 100;
const ROUNDS = 20;
const TARGET_MS = 1000;

/** 1,000 strategies, each with 100 completed trades and their open/close signals (seq in close order). */
async function preload(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(`INSERT INTO "Strategy" (id, name, description, pairs, "createdAt")
      SELECT gen_random_uuid(), 'Bench strategy ' || i, 'trend following ' || i, ARRAY['BTC/USDT'], now() - (i % 400) * interval '1 day'
      FROM generate_series(1, $1::int) i`, [STRATEGIES]);
    // Trade k of strategy s: entry 100, exit 100 * (1 + r) with r in [-3 %, +3.2 %) varying by strategy and trade.
    await c.query(`
      WITH s AS (SELECT id, row_number() OVER (ORDER BY id) AS sn FROM "Strategy"),
      g AS (SELECT s.id AS sid, s.sn, k, gen_random_uuid() AS open_id, gen_random_uuid() AS close_id,
              now() - ((${TRADES_PER_STRATEGY} - k) * 1.2 + (s.sn % 7) * 0.01) * interval '1 day' AS closed_at,
              100 * (1 + (((s.sn * 37 + k * 101) % 62) - 30) / 1000.0) AS exit_price
            FROM s, generate_series(1, ${TRADES_PER_STRATEGY}) k),
      n AS (SELECT g.*, row_number() OVER (ORDER BY closed_at, sid) AS rn FROM g),
      o AS (INSERT INTO "Signal" (id, seq, "strategyId", pair, action, direction, price, "marketPrice", source, hash, "createdAt")
            SELECT open_id, rn * 2 - 1, sid, 'BTC/USDT', 'OPEN', 'LONG', 100, 100, 'api', md5(open_id::text), closed_at - interval '1 hour' FROM n RETURNING id),
      x AS (INSERT INTO "Signal" (id, seq, "strategyId", pair, action, direction, price, "marketPrice", source, hash, "createdAt")
            SELECT close_id, rn * 2, sid, 'BTC/USDT', 'CLOSE', 'LONG', exit_price, exit_price, 'api', md5(close_id::text), closed_at FROM n RETURNING id)
      INSERT INTO "Trade" (id, "strategyId", pair, direction, status, "entryPrice", "openSignalId", "openSeq", "openedAt", "exitPrice",
        "closeSignalId", "closeSeq", "closedAt", "pnlPct", "entryMarketPrice", "exitMarketPrice")
      SELECT gen_random_uuid(), sid, 'BTC/USDT', 'LONG', 'COMPLETED', 100, open_id, rn * 2 - 1, closed_at - interval '1 hour', exit_price,
        close_id, rn * 2, closed_at, (exit_price - 100), 100, exit_price FROM n`);
    await c.query(`UPDATE "SeqCounter" SET value = (SELECT max(seq) FROM "Signal") WHERE id = 1`);
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally { await c.end(); }
}

export default async function listingBench(): Promise<BenchRow[]> {
  const dbUrl = await freshDatabase('sm_bench_listing');
  await preload(dbUrl);
  const config = loadConfig({
    DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sm-bench-')),
    JWT_SECRET: 'b'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'silent', ROLES: 'api',
  });
  const app = await buildApp(config, { log: createLogger('silent') });
  const rows: BenchRow[] = [];
  try {
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    // A close as the coordinator writes it: the next global seq, and one trade of some strategy COMPLETED at it.
    const close = () => db.query(`WITH s AS (UPDATE "SeqCounter" SET value = value + 1 WHERE id = 1 RETURNING value),
      st AS (SELECT id FROM "Strategy" ORDER BY random() LIMIT 1)
      INSERT INTO "Trade" (id, "strategyId", pair, direction, status, "entryPrice", "openSignalId", "openSeq", "openedAt", "exitPrice", "closeSeq", "closedAt", "entryMarketPrice", "exitMarketPrice")
      SELECT gen_random_uuid(), st.id, 'BTC/USDT', 'LONG', 'COMPLETED', 100, gen_random_uuid(), s.value, now() - interval '1 hour', 104, s.value, now(), 100, 104 FROM s, st`);
    // A trade written around the coordinator (no seq): the count disagrees, everything is computed again.
    const sideWrite = () => db.query(`INSERT INTO "Trade" (id, "strategyId", pair, direction, status, "entryPrice", "openSignalId", "openSeq", "openedAt", "exitPrice", "closeSeq", "closedAt", "entryMarketPrice", "exitMarketPrice")
      SELECT gen_random_uuid(), id, 'BTC/USDT', 'LONG', 'COMPLETED', 100, gen_random_uuid(), 0, now() - interval '1 hour', 99, 0, now(), 100, 99 FROM "Strategy" ORDER BY random() LIMIT 1`);
    const cases: [string, string, boolean, (() => Promise<unknown>)?][] = [
      ['newest first (no trade read)', 'sort=created', false],
      ['sorted by total PnL, each right after a trade close (its strategy recomputed)', 'sort=totalPnl', true, close],
      ['sorted by max drawdown, each right after a trade close (its strategy recomputed)', 'sort=maxDrawdown', true, close],
      ['sorted by total PnL, each after a trade written around the coordinator (all recomputed)', 'sort=totalPnl', true, sideWrite],
      ['sorted by max drawdown, each after a trade written around the coordinator (all recomputed)', 'sort=maxDrawdown', true, sideWrite],
      ['sorted by total PnL', 'sort=totalPnl', true],
      ['sorted by 30 d return', 'sort=return&period=30d', true],
      ['sorted by Sharpe, page 3', 'sort=sharpe&page=3', true],
      ['sorted by max drawdown, ascending', 'sort=maxDrawdown&order=asc', true],
      ['min. 50 trades, sorted by win rate', 'sort=winRate&minTrades=50', true],
    ];
    for (const [name, q, perf, before] of cases) {
      const get = async () => {
        await before?.();
        const t = performance.now();
        const res = await fetch(`${app.url}/api/strategies?${q}&limit=25`);
        const body = await res.json() as { strategies: unknown[]; total: number };
        if (res.status !== 200 || body.strategies.length !== 25 || body.total < 25) throw new Error(`${q}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        return performance.now() - t;
      };
      await get(); await get(); // warm-up: plans, connections
      const samples: number[] = [];
      for (let i = 0; i < ROUNDS; i++) samples.push(await get());
      const s = summarise(samples);
      rows.push({
        name: `marketplace list, 1,000 strategies / 100,000 closed trades: ${name} (25 rows)`,
        value: `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`,
        target: perf ? `p99 < ${TARGET_MS} ms` : '',
        verdict: perf ? verdict(s.p99 < TARGET_MS) : '',
      });
    }
    await db.end();
  } finally { await app.stop(); }
  return rows;
}
