/**
 * Crash test: the trade monitor runs in real child processes (`node --import tsx src/main.ts`,
 * ROLES=api,monitor) against the fake Binance; one is killed with SIGKILL while closing a batch and a
 * new one takes over. This test process only opens trades (no monitor role).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { App } from '../src/app.js';
import type { FakeBinance } from './support/fake-exchange.js';
import { spawnServer } from './support/processes.js';
import { closeSignals, MONITOR_DB_URL, MONITOR_ENV, newPair, openTrade, useMonitorSuite, waitFor } from './monitor-support.js';

describe('trade monitor restart (real processes)', function () {
  this.timeout(120_000);
  const suite = useMonitorSuite({ ROLES: 'api,store' }); // no monitor here: only the child processes close
  let fake: FakeBinance;
  let app: App;
  let db: pg.Pool;
  before(() => { ({ fake, app, db } = suite); });

  const open = (a: App, pair: string, direction: 'LONG' | 'SHORT', price: number, stopLoss?: number, takeProfit?: number, strategyId?: string) =>
    openTrade(a, db, pair, direction, price, stopLoss, takeProfit, strategyId);

  it('when the monitor process is killed in the middle of closing a batch, the restarted one closes the rest and trades opened meanwhile, each once', async function () {
    const env = { DATABASE_URL: MONITOR_DB_URL, ROLES: 'api,monitor', EXCHANGE_URL_BINANCE: fake.origin, MONITOR_CLOSE_CONCURRENCY: '1', ...MONITOR_ENV };
    const pairs = [newPair(fake, 100), newPair(fake, 100)];
    const opened: { strategyId: string; tradeId: string; pair: string }[] = [];
    for (let i = 0; i < 80; i++) { const pair = pairs[i % 2]!; opened.push({ ...(await open(app, pair, 'LONG', 100, 90, 110)), pair }); }
    const countClosed = async () => (await db.query(`SELECT count(*)::int AS n FROM "Trade" WHERE id = ANY($1) AND status = 'COMPLETED'`, [opened.map((o) => o.tradeId)])).rows[0].n as number;
    let proc = await spawnServer(env);
    try {
      await waitFor('first monitor watches all trades', async () => (await monitorTrades(proc.url)) >= 80, 30_000);
      for (const p of pairs) fake.setPrice(p, 112);
      await waitFor('first closes', async () => (await countClosed()) > 0, 20_000);
      await proc.kill('SIGKILL');
      const closedBeforeRestart = await countClosed();
      // While no monitor runs: a new trade opens above the current price.
      const late = { ...(await open(app, pairs[0]!, 'LONG', 112, 105, 120, randomUUID())), pair: pairs[0]! };
      opened.push(late);
      proc = await spawnServer(env);
      await waitFor('restarted monitor closes the crossed trades', async () => (await countClosed()) >= opened.length - 1, 60_000);
      fake.setPrice(pairs[0]!, 121);
      await waitFor('all closed', async () => (await countClosed()) === opened.length, 30_000);
      assert.ok(closedBeforeRestart < 80, `killed mid-batch (${closedBeforeRestart} of 80 closed before the kill)`);
      for (const o of opened) assert.equal((await closeSignals(db, o.strategyId, o.pair)).length, 1, `one CLOSE for ${o.tradeId}`);
      const { rows } = await db.query(`SELECT DISTINCT "closeReason" FROM "Trade" WHERE id = ANY($1)`, [opened.map((o) => o.tradeId)]);
      assert.deepEqual(rows.map((r) => r.closeReason), ['TAKE_PROFIT']);
    } finally { await proc.kill(); }
  });
});

/** Trades watched by the monitor of a server process, from its health details (/health where it still carries them). */
async function monitorTrades(url: string): Promise<number> {
  let res = await fetch(`${url}/health/details`);
  if (res.status === 404) res = await fetch(`${url}/health`);
  const body = (await res.json()) as { checks?: { monitor?: { trades?: number } } };
  return body.checks?.monitor?.trades ?? 0;
}
