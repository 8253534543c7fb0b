/**
 * Capture rules without a browser: which drawn markers become signals (history watermark, cursor),
 * how a marker maps onto a signal, and how the targets file is validated.
 */
import assert from 'node:assert/strict';
import { markerKey, markerSignal, newMarkers, parseTargets, startCursor, type CaptureTarget, type Marker } from '../src/capture/index.js';

const T = 1_700_000_040; // a minute boundary
const m = (time: number, side: Marker['side'], price = 100): Marker => ({ time, side, price, reason: 'r' });
const target = parseTargets([{ strategyId: '00000000-0000-4000-8000-000000000001', pair: 'btc/usdt', strategy: 'ma-crossover', timeframe: '1m' }], ['chart-page']).targets[0] as CaptureTarget;

describe('capture rules: which markers become signals', () => {
  it('on the first visit, markers confirmed before start − backfill are history and skipped; later ones are new', () => {
    const cursor = startCursor((T + 600) * 1000, 300); // watermark T + 300
    // confirmation = open time + 60 s: T+180 → T+240 (< watermark, history); T+240 → T+300 (= watermark, new)
    const got = newMarkers([m(T + 180, 'BUY'), m(T + 240, 'SELL'), m(T + 600, 'BUY')], cursor, '1m');
    assert.deepEqual(got.map((x) => x.time), [T + 240, T + 600]);
  });

  it('with backfill 0 only markers confirmed at or after the capturer start are new', () => {
    const cursor = startCursor(T * 1000, 0);
    assert.deepEqual(newMarkers([m(T - 120, 'BUY'), m(T - 60, 'SELL'), m(T, 'BUY')], cursor, '1m').map((x) => x.time), [T - 60, T]);
  });

  it('after a marker is handled, it and anything older (e.g. a marker surfacing as the window slides) are not new; output is time-ordered and one per time', () => {
    const cursor = { ...startCursor(T * 1000, 3600), lastHandled: T + 120 };
    const got = newMarkers([m(T + 300, 'SELL'), m(T + 60, 'BUY'), m(T + 120, 'BUY'), m(T + 180, 'BUY'), m(T + 180, 'BUY')], cursor, '1m');
    assert.deepEqual(got.map((x) => [x.time, x.side]), [[T + 180, 'BUY'], [T + 300, 'SELL']]);
  });

  it('BUY maps to OPEN LONG and SELL to CLOSE LONG at the marker price, keyed by pair, timeframe, time and side', () => {
    const open = markerSignal(target, m(T, 'BUY', 64000.5), '/evidence/x.png');
    assert.deepEqual([open.action, open.direction, open.price, open.pair, open.evidence], ['OPEN', 'LONG', 64000.5, 'BTC/USDT', '/evidence/x.png']);
    const close = markerSignal(target, m(T + 60, 'SELL', 65000), undefined);
    assert.deepEqual([close.action, close.direction], ['CLOSE', 'LONG']);
    assert.equal(open.idempotencyKey, `capture:BTC/USDT:1m:${T}:BUY`);
    assert.notEqual(markerKey(target, m(T, 'BUY')), markerKey({ ...target, timeframe: '5m' }, m(T, 'BUY')));
  });
});

describe('capture targets file', () => {
  it('keeps valid targets with defaults and reports each invalid entry with its index and field', () => {
    const r = parseTargets([
      { strategyId: '00000000-0000-4000-8000-000000000001', name: 'a', pair: 'ETH/USDT', strategy: 'macd-trend' },
      { strategyId: 'nope', pair: 'ETH/USDT', strategy: 'macd-trend' },
      { strategyId: '00000000-0000-4000-8000-000000000002', pair: 'ETHUSDT', strategy: 'macd-trend' },
      { strategyId: '00000000-0000-4000-8000-000000000003', pair: 'ETH/USDT', strategy: 'macd-trend', extractor: 'other-site' },
      { strategyId: '00000000-0000-4000-8000-000000000004', pair: 'ETH/USDT', strategy: 'no-such' },
      { strategyId: '00000000-0000-4000-8000-000000000005', pair: 'ETH/USDT', strategy: 'macd-trend', typo: 1 },
    ], ['chart-page']);
    assert.equal(r.targets.length, 1);
    assert.deepEqual(
      { id: r.targets[0]!.id, tf: r.targets[0]!.timeframe, ex: r.targets[0]!.exchange, every: r.targets[0]!.intervalSeconds, extractor: r.targets[0]!.extractor, auto: r.targets[0]!.autoCreate },
      { id: 'a', tf: '1m', ex: 'binance', every: 60, extractor: 'chart-page', auto: false },
    );
    assert.equal(r.errors.length, 5);
    assert.match(r.errors[0]!, /^target 1: strategyId/);
    assert.match(r.errors[1]!, /^target 2: pair must look like BASE\/QUOTE/);
    assert.match(r.errors[2]!, /^target 3: extractor "other-site" is unknown/);
    assert.match(r.errors[3]!, /^target 4: strategy/);
    assert.match(r.errors[4]!, /^target 5: .*typo/);
  });

  it('a document that is not an array yields no targets and one error', () => {
    assert.deepEqual(parseTargets({ targets: [] }, ['chart-page']), { targets: [], errors: ['capture targets file must hold a JSON array'] });
  });
});
