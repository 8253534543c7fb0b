/**
 * Chart capture with real Chromium: chart pages drawn from the fake exchange's klines (through ccxt),
 * the capturer visiting them, markers becoming signals with PNG evidence, and the capturer surviving
 * hung pages and a killed browser. One app (one browser) for the whole file; each test replaces the
 * targets file with its own targets (the capturer re-reads it every 100 ms).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../src/app.js';
import type { capturerComponent } from '../src/capture/index.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { FakeBinance, type Candle } from './support/fake-exchange.js';
import { waitFor } from './support/wait.js';

type CapturerComponent = ReturnType<typeof capturerComponent>;
const MIN = 60_000;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const PARAMS = { fast: 2, slow: 4, kind: 'sma' };

/** 1-minute candles with these closes, the last one opening at `lastOpenMs` (open = previous close). */
function candles(closes: number[], lastOpenMs: number): Candle[] {
  const first = lastOpenMs - (closes.length - 1) * MIN;
  return closes.map((close, i) => {
    const open = i ? closes[i - 1]! : close;
    return { openTime: first + i * MIN, open, high: Math.max(open, close) + 1, low: Math.min(open, close) - 1, close, volume: 10 };
  });
}

const minuteFloor = (ms: number) => Math.floor(ms / MIN) * MIN;

describe('chart capture (real Chromium)', function () {
  this.timeout(40_000);
  let fake: FakeBinance;
  let app: App;
  let comp: CapturerComponent;
  let targetsFile: string;
  let hangServer: http.Server;
  let hangUrl: string;
  const pairs: string[] = [];

  before(async () => {
    // Every market exists before ccxt first loads the market list.
    for (let i = 0; i < 10; i++) pairs.push(uniquePair());
    fake = new FakeBinance({ markets: pairs.map((p) => ({ base: p.split('/')[0]!, quote: 'USDT', price: '100', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '1' })) });
    await fake.start();
    targetsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sm-capture-')), 'targets.json');
    writeFileSync(targetsFile, '[]');
    app = await startTestApp({
      ROLES: 'api,store,capturer', EXCHANGE_URL_BINANCE: fake.origin, CAPTURE_TARGETS_FILE: targetsFile,
      CAPTURE_TARGETS_RELOAD_MS: '100', CAPTURE_PAGE_TIMEOUT_MS: '2500', CAPTURE_BACKFILL_SECONDS: '600',
      CAPTURE_CONCURRENCY: '3', CAPTURE_RECYCLE_AFTER: '15', CHART_CANDLE_CACHE_MS: '0', CHART_FIXTURES_DIR: FIXTURES,
    });
    comp = app.components.find((c) => c.name === 'capturer') as CapturerComponent;
    // /throws: a page whose script throws; anything else never answers (the socket is left hanging).
    hangServer = http.createServer((req, res) => {
      if (req.url === '/throws') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>chart</p><script>throw new Error("chart lib exploded")</script>');
    });
    await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', () => r()));
    hangUrl = `http://127.0.0.1:${(hangServer.address() as AddressInfo).port}/chart`;
  });

  after(async () => {
    await app?.stop();
    hangServer?.closeAllConnections();
    hangServer?.close();
    await fake?.stop();
  });

  /** Replaces the capture targets and waits until the capturer runs exactly these. */
  async function setTargets(targets: Record<string, unknown>[]): Promise<void> {
    writeFileSync(`${targetsFile}.tmp`, JSON.stringify(targets));
    renameSync(`${targetsFile}.tmp`, targetsFile);
    const names = targets.map((t) => t.name).sort().join(',');
    // The file's targets (strategy bots enabled in the shared test database by other test files are targets too).
    await waitFor('targets reloaded', () => comp.capturer.targets().filter((t) => !t.botId).map((t) => t.id).sort().join(',') === names);
  }

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const m = app.metrics.registry.getSingleMetric(name);
    if (!m) return 0;
    const { values } = await m.get();
    return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
  }

  const okVisits = (target: string) => metric('capture_visits_total', { target, outcome: 'ok' });

  async function signalsOf(strategyId: string): Promise<any[]> {
    const r = await client(app).get(`/api/strategies/${strategyId}/signals`);
    assert.equal(r.status, 200);
    return r.body.signals;
  }

  /** A fresh strategy on a fresh market; returns ids and a target for it. */
  async function fixture(name: string, extra: Record<string, unknown> = {}) {
    const pair = pairs.pop()!;
    const { strategyId } = await seedStrategy(app);
    const target = { strategyId, name, pair, timeframe: '1m', strategy: 'ma-crossover', params: PARAMS, intervalSeconds: 0.2, ...extra };
    return { pair, strategyId, target };
  }

  it('serves the chart page and its data: markers only on closed candles, page script from our origin', async () => {
    const { pair, strategyId } = await fixture('page');
    const now = Date.now();
    // The last candle (still forming) would cross: no marker until it closes.
    fake.setCandles(pair, '1m', candles([100, 100, 100, 100, 100, 100, 110], minuteFloor(now)));
    const q = `pair=${encodeURIComponent(pair)}&tf=1m&strategy=ma-crossover&fast=2&slow=4&kind=sma`;
    const data = await client(app).get(`/api/charts/${strategyId}/data?${q}`);
    assert.equal(data.status, 200, JSON.stringify(data.body));
    assert.equal(data.body.candles.length, 7);
    assert.deepEqual(data.body.markers, []);
    assert.equal(data.body.lastClosedTime, minuteFloor(now) / 1000 - 60);

    const page = await fetch(`${app.url}/charts/${strategyId}?${q}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<script src="\/charts\/assets\/chart\.js"><\/script>/);
    assert.doesNotMatch(html, /<script>/, 'no inline script (CSP allows self only)');
    assert.match(html, /TradingView/);
    const lib = await fetch(`${app.url}/charts/vendor/lightweight-charts.standalone.production.js`);
    assert.equal(lib.status, 200);
    assert.match(await lib.text(), /Lightweight Charts/);

    const bad = await client(app).get(`/api/charts/${strategyId}/data?pair=${encodeURIComponent(pair)}&strategy=nope`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'CHART_QUERY_INVALID');
    // Candles only from configured exchanges (here binance, via EXCHANGE_URL_BINANCE): any other ccxt id is refused up front.
    const elsewhere = await client(app).get(`/api/charts/${strategyId}/data?${q}&exchange=kraken`);
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error.code, 'CHART_EXCHANGE_NOT_CONFIGURED');
  });

  it('draws offline candles from a fixture file with the strategy markers (BUY then SELL)', async () => {
    const { strategyId: id } = await seedStrategy(app);
    const r = await client(app).get(`/api/charts/${id}/data?pair=BTC/USDT&tf=1m&strategy=ma-crossover&fast=2&slow=4&kind=sma&fixture=candles-ma-cross`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.markers.map((m: any) => [m.time, m.side, m.price]), [[1_700_000_480, 'BUY', 110], [1_700_000_660, 'SELL', 90]]);
    const missing = await client(app).get(`/api/charts/${id}/data?pair=BTC/USDT&strategy=ma-crossover&fixture=nope`);
    assert.equal(missing.status, 404);
  });

  it('when the chart data gains a new crossing, produces exactly one OPEN LONG with a PNG screenshot; revisits add no duplicate; the next crossing CLOSEs', async () => {
    const { pair, strategyId, target } = await fixture('cross');
    const base = minuteFloor(Date.now()) - 8 * MIN;
    const flat = [100, 100, 100, 100, 100, 100];
    fake.setCandles(pair, '1m', candles(flat, base));
    await setTargets([target]);
    const v0 = await waitFor('two visits', async () => (await okVisits('cross')) >= 2 && (await okVisits('cross')));
    assert.deepEqual(await signalsOf(strategyId), [], 'no crossing yet, no signal');

    fake.setCandles(pair, '1m', candles([...flat, 110], base + MIN));
    const [open] = await waitFor('the OPEN signal', async () => { const s = await signalsOf(strategyId); return s.length ? s : undefined; });
    assert.equal(open.action, 'OPEN');
    assert.equal(open.direction, 'LONG');
    assert.equal(open.price, 110);
    assert.equal(open.source, 'capture');
    assert.match(open.evidence, /^\/evidence\/[\w.-]+\.png$/);
    const png = await fetch(app.url + open.evidence);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
    assert.ok(bytes.readUInt32BE(16) >= 300 && bytes.readUInt32BE(20) >= 200, 'a chart-sized image');
    assert.ok(existsSync(path.join(app.config.dataDir, 'evidence', path.basename(open.evidence))));

    const seen = await okVisits('cross');
    assert.ok(seen > v0);
    await waitFor('three more visits', async () => (await okVisits('cross')) >= seen + 3);
    assert.equal((await signalsOf(strategyId)).length, 1, 'the marker is seen on every visit but accepted once');
    assert.equal(await metric('capture_signals_total', { target: 'cross', outcome: 'accepted' }), 1);

    fake.setCandles(pair, '1m', candles([...flat, 110, 110, 90], base + 3 * MIN));
    const signals = await waitFor('the CLOSE signal', async () => { const s = await signalsOf(strategyId); return s.length === 2 ? s : undefined; });
    assert.deepEqual(signals.map((s) => [s.action, s.direction, s.price]), [['OPEN', 'LONG', 110], ['CLOSE', 'LONG', 90]]);
    assert.ok(signals[1].seq > signals[0].seq);
    assert.notEqual(signals[1].evidence, signals[0].evidence);
  });

  it('markers confirmed before the start watermark (start − backfill) are history: only the new crossing becomes a signal', async () => {
    const { pair, strategyId, target } = await fixture('history');
    const now = minuteFloor(Date.now());
    // BUY and SELL three hours ago, then flat, then a new BUY two minutes ago.
    const old = candles([100, 100, 100, 100, 100, 100, 110, 110, 90, 90, 90, 90, 90], now - 180 * MIN);
    const recent = candles([90, 90, 90, 90, 100], now - 2 * MIN);
    fake.setCandles(pair, '1m', [...old, ...recent]);
    await setTargets([target]);
    const signals = await waitFor('the new signal', async () => { const s = await signalsOf(strategyId); return s.length ? s : undefined; });
    const after = await okVisits('history');
    await waitFor('two more visits', async () => (await okVisits('history')) >= after + 2);
    const all = await signalsOf(strategyId);
    assert.deepEqual(all.map((s) => [s.action, s.price]), [['OPEN', 100]], 'the old BUY/SELL were not replayed');
    assert.equal(signals[0].id, all[0].id);
  });

  it('a SELL whose BUY is history is refused by the coordinator (409 no open trade) once, logged, and not retried', async () => {
    const { pair, strategyId, target } = await fixture('orphan-sell');
    const now = minuteFloor(Date.now());
    const old = candles([100, 100, 100, 100, 100, 100, 110, 110, 110, 110, 110], now - 180 * MIN);
    const recent = candles([110, 110, 110, 110, 90], now - 2 * MIN);
    fake.setCandles(pair, '1m', [...old, ...recent]);
    await setTargets([target]);
    await waitFor('the refusal', async () => (await metric('capture_signals_total', { target: 'orphan-sell', outcome: 'refused' })) >= 1);
    const after = await okVisits('orphan-sell');
    await waitFor('three more visits', async () => (await okVisits('orphan-sell')) >= after + 3);
    assert.equal(await metric('capture_signals_total', { target: 'orphan-sell', outcome: 'refused' }), 1, 'not retried on later visits');
    assert.deepEqual(await signalsOf(strategyId), []);
    assert.ok(await metric('signals_rejected_total', { source: 'capture', code: 'NO_OPEN_TRADE' }) >= 1);
  });

  it('recycles Chromium after CAPTURE_RECYCLE_AFTER captures and keeps capturing with the new browser', async () => {
    const { pair, target } = await fixture('recycle', { intervalSeconds: 0.05 });
    fake.setCandles(pair, '1m', candles([100, 100, 100, 100], minuteFloor(Date.now()) - 2 * MIN));
    const before = await metric('capture_browser_launches_total', { reason: 'recycle' });
    await setTargets([target]);
    await waitFor('a recycle', async () => (await metric('capture_browser_launches_total', { reason: 'recycle' })) > before, 20_000);
    const visits = await okVisits('recycle');
    await waitFor('captures after the recycle', async () => (await okVisits('recycle')) >= visits + 2);
    assert.equal(await metric('capture_failures_total', { target: 'recycle' }), 0);
  });

  it('a target URL that hangs times out and a page that throws fails, one failure each, without blocking another target', async () => {
    const { pair, strategyId, target } = await fixture('good');
    const hang = { ...target, name: 'hang', url: hangUrl, strategyId: '00000000-0000-4000-8000-0000000000aa' };
    const throws = { ...target, name: 'throws', url: hangUrl.replace('/chart', '/throws'), strategyId: '00000000-0000-4000-8000-0000000000ac' };
    const base = minuteFloor(Date.now()) - 6 * MIN;
    fake.setCandles(pair, '1m', candles([100, 100, 100, 100, 100], base));
    await setTargets([hang, throws, target]);
    const t0 = Date.now();
    await waitFor('a timeout of the hung target', async () => (await metric('capture_failures_total', { target: 'hang', reason: 'timeout' })) >= 1, 10_000);
    assert.ok(Date.now() - t0 < 6000, 'bounded by CAPTURE_PAGE_TIMEOUT_MS');
    assert.ok((await okVisits('good')) >= 2, 'the good target kept being captured meanwhile');
    await waitFor('the throwing page to fail', async () => (await metric('capture_failures_total', { target: 'throws', reason: 'page_error' })) >= 1, 10_000);
    assert.equal(await okVisits('throws'), 0);
    fake.setCandles(pair, '1m', candles([100, 100, 100, 100, 100, 110], base + MIN));
    const [s] = await waitFor('signal of the good target', async () => { const x = await signalsOf(strategyId); return x.length ? x : undefined; });
    assert.equal(s.action, 'OPEN');
  });

  it('when Chromium is killed mid-capture, the failure is counted and the next capture (new browser) produces the signal', async () => {
    const { pair, strategyId, target } = await fixture('after-kill');
    const hang = { ...target, name: 'hang2', url: hangUrl, strategyId: '00000000-0000-4000-8000-0000000000ab' };
    const base = minuteFloor(Date.now()) - 6 * MIN;
    fake.setCandles(pair, '1m', candles([100, 100, 100, 100, 100], base));
    await setTargets([hang, target]);
    await waitFor('a first capture', async () => (await okVisits('after-kill')) >= 1);
    const pid = await waitFor('a browser pid', () => comp.browser.pid());
    const crashes = await metric('capture_browser_crashes_total');
    const browserFailures = await metric('capture_failures_total', { reason: 'browser' });
    process.kill(pid, 'SIGKILL'); // the hung target's page is always mid-capture
    await waitFor('the crash to be noticed', async () => (await metric('capture_browser_crashes_total')) > crashes);
    await waitFor('a failed in-flight capture', async () => (await metric('capture_failures_total', { reason: 'browser' })) > browserFailures);

    fake.setCandles(pair, '1m', candles([100, 100, 100, 100, 100, 110], base + MIN));
    const [s] = await waitFor('signal after the kill', async () => { const x = await signalsOf(strategyId); return x.length ? x : undefined; });
    assert.equal(s.action, 'OPEN');
    assert.ok(readFileSync(path.join(app.config.dataDir, 'evidence', path.basename(s.evidence))).length > 1000);
    const newPid = comp.browser.pid();
    assert.ok(newPid && newPid !== pid, 'a new Chromium');
    assert.ok((await metric('capture_browser_launches_total', { reason: 'crash' })) >= 1);
  });
});
