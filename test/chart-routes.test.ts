/**
 * Chart routes and the strategy they chart: GET /charts/:strategyId and /api/charts/:strategyId/data answer
 * an unknown strategy with the same 404 STRATEGY_NOT_FOUND as every strategy path, except a strategy an
 * autoCreate target of the targets file will create on its first captured signal (its chart must draw
 * first); a bad query is a 400 before any lookup.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { client, seedStrategy, startTestApp } from './support/app.js';
import { waitFor } from './support/wait.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const QUERY = 'pair=BTC%2FUSDT&tf=1m&strategy=ma-crossover&fast=2&slow=4&kind=sma&fixture=candles-ma-cross';

describe('chart routes: the strategy must exist (or be an autoCreate target\'s)', function () {
  this.timeout(30_000);
  let app: App;
  let targetsFile: string;
  const autoId = randomUUID();
  const plainId = randomUUID();
  const target = (strategyId: string, autoCreate: boolean) => ({ strategyId, pair: 'BTC/USDT', timeframe: '1m', strategy: 'ma-crossover', params: { fast: 2, slow: 4, kind: 'sma' }, fixture: 'candles-ma-cross', autoCreate });

  before(async () => {
    targetsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sm-chart-')), 'targets.json');
    writeFileSync(targetsFile, JSON.stringify([target(autoId, true), target(plainId, false)]));
    app = await startTestApp({ ROLES: 'api', CAPTURE_TARGETS_FILE: targetsFile, CAPTURE_TARGETS_RELOAD_MS: '100', CHART_FIXTURES_DIR: FIXTURES });
  });
  after(async () => { await app?.stop(); });

  const data = (id: string, q = QUERY) => client(app).get(`/api/charts/${id}/data?${q}`);
  const page = (id: string) => client(app).get(`/charts/${id}?${QUERY}`);

  it('an unknown strategy: 404 STRATEGY_NOT_FOUND for the data and the page, like the other strategy routes', async () => {
    const id = randomUUID();
    for (const r of [await data(id), await page(id), await data(plainId), await page(plainId)]) {
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'STRATEGY_NOT_FOUND');
    }
    const other = await client(app).get(`/api/strategies/${id}`);
    assert.deepEqual([other.status, other.body.error.code], [404, 'STRATEGY_NOT_FOUND'], 'the same answer as GET /api/strategies/:id');
  });

  it('a stored strategy: the page and its candles with the markers', async () => {
    const { strategyId } = await seedStrategy(app);
    const r = await data(strategyId);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.markers.map((m: { side: string }) => m.side), ['BUY', 'SELL']);
    const p = await fetch(`${app.url}/charts/${strategyId}?${QUERY}`);
    assert.equal(p.status, 200);
    assert.match(await p.text(), /chart\.js/);
  });

  it('an autoCreate target\'s strategy draws before it exists; a target added to the file later too', async () => {
    assert.equal(await app.db.prisma.strategy.count({ where: { id: autoId } }), 0);
    assert.equal((await data(autoId)).status, 200);
    assert.equal((await page(autoId)).status, 200);
    const later = randomUUID();
    assert.equal((await data(later)).status, 404);
    writeFileSync(targetsFile, JSON.stringify([target(autoId, true), target(plainId, false), target(later, true)]));
    await waitFor('the new autoCreate target to count', async () => (await data(later)).status === 200, 5000, 50);
  });

  it('a bad query is a 400 before the strategy is looked up', async () => {
    const r = await data(randomUUID(), 'pair=BTC%2FUSDT&strategy=nope');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'CHART_QUERY_INVALID');
  });
});
