/**
 * Capture benchmarks (issue 5), real Chromium, chart pages drawn from the fake exchange through ccxt:
 *  - marker → signal latency: the moment the exchange starts serving candles with a new crossing to
 *    the moment the coordinator has accepted the captured signal, 1 s visit interval, production
 *    candle cache (500 ms); rounds start at random phases of the visit cycle;
 *  - captures per minute per browser: two targets visited back to back (CAPTURE_CONCURRENCY 2).
 */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { TOPICS } from '../src/bus/index.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { SignalAcceptedEvent } from '../src/signals/index.js';
import { FakeBinance, type Candle } from '../test/support/fake-exchange.js';
import { ms, summarise, verdict, type BenchRow } from './harness.js';
import { freshDatabase } from './support.js';

const MIN = 60_000;
const ROUNDS = 20;
const PAIR = 'BTC/USDT';

export default async function captureBench(): Promise<BenchRow[]> {
  const fake = new FakeBinance();
  await fake.start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sm-bench-capture-'));
  const targetsFile = path.join(dir, 'targets.json');
  writeFileSync(targetsFile, '[]');
  const config = loadConfig({
    DATABASE_URL: await freshDatabase('sm_bench_capture'), PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir,
    JWT_SECRET: 'b'.repeat(40), KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), LOG_LEVEL: 'silent',
    ROLES: 'api,store,capturer', EXCHANGE_URL_BINANCE: fake.origin, CAPTURE_TARGETS_FILE: targetsFile,
    CAPTURE_TARGETS_RELOAD_MS: '200', CAPTURE_BACKFILL_SECONDS: String(6 * 3600),
  });
  const app = await buildApp(config, { log: createLogger('silent') });
  const setTargets = (t: unknown[]) => { writeFileSync(`${targetsFile}.tmp`, JSON.stringify(t)); renameSync(`${targetsFile}.tmp`, targetsFile); };
  try {
    return [await latency(app, fake, setTargets), await throughput(app, fake, setTargets)];
  } finally {
    await app.stop();
    await fake.stop();
  }
}

/** Appends 5 one-minute candles at `level` (one SMA 2/4 crossing when the level flips). */
function append(series: Candle[], level: number): void {
  for (let i = 0; i < 5; i++) {
    const prev = series.at(-1)!;
    series.push({ openTime: prev.openTime + MIN, open: prev.close, high: Math.max(Number(prev.close), level) + 1, low: Math.min(Number(prev.close), level) - 1, close: level, volume: 10 });
  }
}

async function latency(app: Awaited<ReturnType<typeof buildApp>>, fake: FakeBinance, setTargets: (t: unknown[]) => void): Promise<BenchRow> {
  const strategyId = randomUUID();
  const start = Math.floor(Date.now() / MIN) * MIN - 4 * 60 * MIN;
  const series: Candle[] = Array.from({ length: 10 }, (_, i) => ({ openTime: start + i * MIN, open: 100, high: 101, low: 99, close: 100, volume: 10 }));
  fake.setCandles(PAIR, '1m', series);
  let accepted: ((at: number) => void) | undefined;
  const off = app.bus.subscribe(TOPICS.signalAccepted, (m) => { if ((m as SignalAcceptedEvent).signal.strategyId === strategyId) accepted?.(performance.now()); });
  setTargets([{ strategyId, name: 'bench', pair: PAIR, timeframe: '1m', strategy: 'ma-crossover', params: { fast: 2, slow: 4, kind: 'sma' }, intervalSeconds: 1, autoCreate: true }]);
  // Browser up and the page warm: wait for three visits of the target to have succeeded (a cold Chromium's
  // first visits, disk cache empty, are start-up, not the steady marker latency measured below).
  const okVisits = async () => {
    const { values } = await app.metrics.registry.getSingleMetric('capture_visits_total')!.get();
    return values.filter((v) => v.labels.target === 'bench' && v.labels.outcome === 'ok').reduce((a, v) => a + v.value, 0);
  };
  for (const until = Date.now() + 30_000; (await okVisits()) < 3;) {
    if (Date.now() > until) throw new Error('capture bench: the chart page was not captured 3 times within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const done = new Promise<number>((resolve, reject) => { accepted = resolve; setTimeout(() => reject(new Error(`round ${round}: no signal within 10 s`)), 10_000); });
    append(series, round % 2 === 0 ? 110 : 90);
    fake.setCandles(PAIR, '1m', series);
    const t0 = performance.now();
    samples.push((await done) - t0);
  }
  off();
  const s = summarise(samples);
  return {
    name: `capture: marker appears → signal accepted (1 s visits, ${s.n} markers; p50 ${ms(s.p50)}, max ${ms(s.max)})`,
    value: `p99 ${ms(s.p99)}`, target: 'p99 < 2 s', verdict: verdict(s.p99 < 2000),
  };
}

async function throughput(app: Awaited<ReturnType<typeof buildApp>>, fake: FakeBinance, setTargets: (t: unknown[]) => void): Promise<BenchRow> {
  const targets = ['ETH/USDT', 'SOL/USDT'].map((pair) => ({ strategyId: randomUUID(), name: `tp-${pair}`, pair, timeframe: '1m', strategy: 'ma-crossover', params: { fast: 2, slow: 4, kind: 'sma' }, intervalSeconds: 0.05 }));
  const visits = async () => {
    const { values } = await app.metrics.registry.getSingleMetric('capture_visits_total')!.get();
    return values.filter((v) => String(v.labels.target).startsWith('tp-') && v.labels.outcome === 'ok').reduce((a, v) => a + v.value, 0);
  };
  setTargets(targets);
  await new Promise((r) => setTimeout(r, 3000));
  const v0 = await visits();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 20_000));
  const perMin = ((await visits()) - v0) / ((performance.now() - t0) / 60_000);
  void fake;
  return { name: 'capture: captures per minute per browser (2 pages at a time, recycling every 200)', value: `${Math.round(perMin)}/min`, target: '', verdict: '' };
}
