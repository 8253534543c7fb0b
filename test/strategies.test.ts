/**
 * Tests for the built-in chart strategies (src/capture/strategies).
 *
 * Every expected number below was computed by hand (fractions shown in the
 * comments) and the strategies are checked against those known answers, not
 * against another implementation.
 */
import assert from 'node:assert/strict';
import {
  enforceLongOnly,
  isStrategyKind,
  runStrategy,
  strategies,
  strategyKinds,
  type Candle,
  type Marker,
  type StrategyKind,
} from '../src/capture/strategies/index.js';
import {
  bollingerSeries,
  emaSeries,
  macdSeries,
  rsiSeries,
  smaSeries,
} from '../src/capture/strategies/indicators.js';
import { divergenceAt } from '../src/capture/strategies/rsi-divergence.js';

const T0 = 1_700_000_000;
const STEP = 60;

/** Candles with open = high = low = close (so swing points are on closes), one per minute. */
function flat(closes: readonly number[]): Candle[] {
  return closes.map((c, i) => ({ time: T0 + i * STEP, open: c, high: c, low: c, close: c, volume: 1 }));
}

/** [index, side, price] of each marker, index recovered from the 1-minute grid. */
function brief(markers: readonly Marker[]): [number, Marker['side'], number][] {
  return markers.map((m) => [(m.time - T0) / STEP, m.side, m.price]);
}

function assertClose(actual: number | null | undefined, expected: number, msg?: string): void {
  assert.ok(typeof actual === 'number', `${msg ?? 'value'}: expected a number, got ${String(actual)}`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${msg ?? 'value'}: ${actual} != ${expected}`);
}

/** Deterministic pseudo-random candles (LCG), irregular time gaps, for property tests. */
function randomCandles(n: number, seed: number): Candle[] {
  let state = seed >>> 0;
  const rand = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const out: Candle[] = [];
  let time = T0;
  let price = 100;
  for (let i = 0; i < n; i++) {
    time += STEP * (1 + Math.floor(rand() * 3)); // gaps of 1-3 minutes
    const open = price;
    // regime-switching drift so all strategies see trends and reversals
    const drift = Math.sin(i / 40) * 0.6;
    const close = Math.max(1, open + drift + (rand() - 0.5) * 3);
    const high = Math.max(open, close) + rand();
    const low = Math.min(open, close) - rand();
    out.push({ time, open, high, low, close, volume: 1 + Math.floor(rand() * 100) });
    price = close;
  }
  return out;
}

describe('strategies: indicator math (hand-computed)', () => {
  it('SMA(3) of 1..5 is [-, -, 2, 3, 4]', () => {
    assert.deepEqual(smaSeries([1, 2, 3, 4, 5], 3), [null, null, 2, 3, 4]);
  });

  it('EMA(3) is alpha = 2/(3+1) = 0.5 seeded with the first value, reported from index 2', () => {
    // e0 = 2; e1 = 0.5*4 + 0.5*2 = 3; e2 = 0.5*6 + 0.5*3 = 4.5; e3 = 0.5*8 + 0.5*4.5 = 6.25
    assert.deepEqual(emaSeries([2, 4, 6, 8], 3), [null, null, 4.5, 6.25]);
  });

  it('RSI(14) uses Wilder smoothing (15 and 16 values)', () => {
    // Changes of the first 15 closes: +1 +1 -1 +1 +1 -1 +1 +1 -1 +1 +1 -1 +1 +1
    //   -> 10 gains of 1, 4 losses of 1. avgGain = 10/14, avgLoss = 4/14.
    //   RSI = 100 * avgGain / (avgGain + avgLoss) = 100 * 10/14 = 71.428571...
    // 16th close 15 (change -1), Wilder: avg = (prev*13 + x)/14
    //   avgGain = (10/14*13 + 0)/14 = 130/196, avgLoss = (4/14*13 + 1)/14 = 66/196
    //   RSI = 100 * 130/196 = 66.326530...
    // (A plain 14-change average would give 9 gains / 5 losses = 64.29, so this pins Wilder.)
    const closes = [10, 11, 12, 11, 12, 13, 12, 13, 14, 13, 14, 15, 14, 15, 16, 15];
    const first15 = rsiSeries(closes.slice(0, 15), 14);
    assert.equal(first15.length, 15);
    assert.deepEqual(first15.slice(0, 14), Array(14).fill(null));
    assertClose(first15[14], 1000 / 14, 'RSI after 15 values');
    const rsi = rsiSeries(closes, 14);
    assertClose(rsi[15], 13000 / 196, 'RSI after 16 values');
  });

  it('Bollinger(8, 2) uses the population standard deviation', () => {
    // [2,4,4,4,5,5,7,9]: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, /8 = 4, sigma = 2
    // upper = 5 + 2*2 = 9, lower = 5 - 2*2 = 1 (the sample std dev sqrt(32/7) would give 9.276)
    const bands = bollingerSeries([2, 4, 4, 4, 5, 5, 7, 9], 8, 2);
    assert.deepEqual(bands.slice(0, 7), Array(7).fill(null));
    assert.deepEqual(bands[7], { upper: 9, middle: 5, lower: 1 });
  });

  it('MACD(2,3,2): EMA(2) - EMA(3), signal EMA(2) of MACD, reported once the signal is warm', () => {
    // closes 1,4,1,4. fast alpha 2/3, slow alpha 1/2, signal alpha 2/3, all seeded with the first value.
    // fast: 1, 3, 5/3, 29/9        slow: 1, 5/2, 7/4, 23/8
    // macd (from index slow-1 = 2): m2 = 5/3 - 7/4 = -1/12, m3 = 29/9 - 23/8 = 25/72
    // signal: s2 = -1/12, s3 = 2/3*25/72 + 1/3*(-1/12) = 50/216 - 6/216 = 11/54
    // histogram h3 = 25/72 - 11/54 = 75/216 - 44/216 = 31/216. First reported index = 3 + 2 - 2 = 3.
    const series = macdSeries([1, 4, 1, 4], 2, 3, 2);
    assert.deepEqual(series.slice(0, 3), [null, null, null]);
    assertClose(series[3]?.macd, 25 / 72, 'macd');
    assertClose(series[3]?.signal, 11 / 54, 'signal');
    assertClose(series[3]?.histogram, 31 / 216, 'histogram');
  });
});

describe('strategies: ma-crossover', () => {
  it('SMA(2)/SMA(4): golden cross at index 6, death cross at index 9', () => {
    // idx    0   1    2    3    4    5    6     7     8     9
    // close 10   9    8    7    6    5    9     9     8     5
    // SMA2   -  9.5  8.5  7.5  6.5  5.5  7     9     8.5   6.5
    // SMA4   -   -    -   8.5  7.5  6.5  6.75  7.25  7.75  7.75
    // f-s    -   -    -   -1   -1   -1  +0.25 +1.75 +0.75 -1.25
    // -> BUY at 6 (-1 -> +0.25) @ 9, SELL at 9 (+0.75 -> -1.25) @ 5
    const markers = runStrategy('ma-crossover', flat([10, 9, 8, 7, 6, 5, 9, 9, 8, 5]), { fast: 2, slow: 4, kind: 'sma' });
    assert.deepEqual(brief(markers), [
      [6, 'BUY', 9],
      [9, 'SELL', 5],
    ]);
    assert.equal(markers[0]!.reason, 'SMA(2) crossed above SMA(4): 7 > 6.75');
  });

  it('EMA(2)/EMA(3): equality is not a cross; cross at index 4, back at index 5', () => {
    // closes 4 4 4 4 8 2. EMA2 alpha 2/3, EMA3 alpha 1/2, both seeded with 4.
    // idx 2,3: both 4 (equal, no cross). idx 4: EMA2 = 4 + 2/3*4 = 20/3, EMA3 = 4 + 1/2*4 = 6 -> BUY
    // idx 5: EMA2 = 2/3*2 + 1/3*20/3 = 32/9 = 3.56, EMA3 = 1/2*2 + 1/2*6 = 4 -> SELL
    const markers = runStrategy('ma-crossover', flat([4, 4, 4, 4, 8, 2]), { fast: 2, slow: 3, kind: 'ema' });
    assert.deepEqual(brief(markers), [
      [4, 'BUY', 8],
      [5, 'SELL', 2],
    ]);
  });

  it('a death cross before any golden cross produces no SELL', () => {
    // closes 1..6 then 1: SMA2 > SMA4 from the first point (idx 3: 3.5 > 2.5), so no golden cross.
    // idx 5: SMA2 = 5.5 > SMA4 = 4.5; idx 6: SMA2 = (6+1)/2 = 3.5 < SMA4 = (4+5+6+1)/4 = 4 -> death cross while flat -> nothing
    const markers = runStrategy('ma-crossover', flat([1, 2, 3, 4, 5, 6, 1]), { fast: 2, slow: 4, kind: 'sma' });
    assert.deepEqual(markers, []);
  });

  it('rejects fast >= slow', () => {
    assert.throws(() => runStrategy('ma-crossover', flat([1, 2, 3]), { fast: 4, slow: 4 }), RangeError);
  });
});

describe('strategies: bollinger-breakout', () => {
  it('BB(4, 1): BUY on the cross above the upper band, SELL on the first close below the middle', () => {
    // idx 3,4: window [10,10,10,10], sigma 0, upper 10; close 10 is not > 10.
    // idx 5: window [10,10,10,14], mean 11, sq dev 1+1+1+9 = 12, /4 = 3, upper = 11 + sqrt(3) = 12.732
    //        close 14 > 12.732 and prev close 10 <= prev upper 10 -> BUY @ 14
    // idx 6: window [10,10,14,13], middle 11.75; close 13 >= 11.75 -> hold
    // idx 7: window [10,14,13,11], middle 12; close 11 < 12 -> SELL @ 11
    // idx 8: window [14,13,11,12], mean 12.5, sq dev 2.25+0.25+2.25+0.25 = 5, /4 = 1.25, upper = 12.5 + 1.118 = 13.618;
    //        close 12 <= 13.618 (no entry)
    // idx 9: window [13,11,12,20], mean 14, sq dev 1+9+4+36 = 50, /4 = 12.5, upper = 14 + 3.536 = 17.536
    //        close 20 > 17.536 and prev close 12 <= 13.618 -> BUY @ 20 (position left open)
    const markers = runStrategy('bollinger-breakout', flat([10, 10, 10, 10, 10, 14, 13, 11, 12, 20]), {
      period: 4,
      stdDev: 1,
    });
    assert.deepEqual(brief(markers), [
      [5, 'BUY', 14],
      [7, 'SELL', 11],
      [9, 'BUY', 20],
    ]);
    assert.equal(markers[1]!.reason, 'close 11 fell below middle band 12 (BB 4, 1)');
  });

  it('rejects a band width the close can never break (stdDev >= sqrt(period - 1))', () => {
    // With the current close inside its own window, its z-score is at most sqrt(period - 1) = sqrt(3) = 1.73 < 2.
    assert.throws(() => runStrategy('bollinger-breakout', flat([1, 2, 3, 4]), { period: 4, stdDev: 2 }), RangeError);
  });
});

describe('strategies: macd-trend', () => {
  it('MACD(2,3,2): BUY above zero, SELL on bearish cross, no BUY on a bullish cross below zero', () => {
    // closes 10 10 10 10 13 10 7 9 12. alphas: fast 2/3, slow 1/2, signal 2/3.
    // idx 3: fast = slow = 10, macd 0, signal 0 (first reported point; not bullish since macd = 0)
    // idx 4 (13): fast 12, slow 23/2, macd 1/2, signal 2/3*1/2 = 1/3 -> macd > signal and > 0 -> BUY @ 13
    // idx 5 (10): fast 32/3, slow 43/4, macd -1/12, signal 2/3*(-1/12) + 1/3*1/3 = 1/18
    //             hist 1/6 -> -5/36: bearish cross -> SELL @ 10
    // idx 6 (7):  fast 74/9, slow 71/8, macd -47/72, signal -5/12, hist -17/72
    // idx 7 (9):  fast 236/27, slow 143/16, macd -85/432 = -0.197, signal -175/648 = -0.270
    //             macd crossed above signal but is below zero -> no entry
    // idx 8 (12): fast 884/81, slow 335/32, macd 1153/2592 = 0.445 > 0, signal 803/3888 = 0.207 -> BUY @ 12
    const markers = runStrategy('macd-trend', flat([10, 10, 10, 10, 13, 10, 7, 9, 12]), { fast: 2, slow: 3, signal: 2 });
    assert.deepEqual(brief(markers), [
      [4, 'BUY', 13],
      [5, 'SELL', 10],
      [8, 'BUY', 12],
    ]);
  });
});

describe('strategies: rsi-divergence', () => {
  // RSI(2), Wilder: RSI = 100 * G / (G + L); first value at index 2 from the mean of 2 changes,
  // then G_i = (G_{i-1} + gain_i)/2, L_i = (L_{i-1} + loss_i)/2.
  // idx  close  change  G       L       RSI
  //  0   20
  //  1   18     -2
  //  2   16     -2      0       2       0
  //  3   17     +1      1/2     1       33.33
  //  4   15.5   -1.5    1/4     5/4     16.67
  //  5   16.5   +1      5/8     5/8     50
  //  6   19     +2.5    25/16   5/16    83.33
  //  7   18     -1      25/32   21/32   54.35
  //  8   19.5   +1.5    73/64   21/64   77.66
  //  9   18.5   -1      73/128  85/128  46.20
  // Swing lows: 2 (16 < 18, 16 < 17), 4 (15.5 < 17, 15.5 < 16.5), 7. Swing highs: 3, 6, 8.
  // idx 5 confirms low 4: prev low 2; 15.5 < 16 (lower low), RSI 16.67 > 0 (higher low), RSI[2] = 0 <= 30 -> BUY
  // idx 7 confirms high 6: prev high 3; 19 > 17 but RSI 83.33 > 33.33 -> no divergence
  // idx 9 confirms high 8: prev high 6; 19.5 > 19, RSI 77.66 < 83.33, RSI[6] = 83.33 >= 70 -> SELL
  const closes = [20, 18, 16, 17, 15.5, 16.5, 19, 18, 19.5, 18.5];

  it('RSI(2) values of the example match the hand table', () => {
    const rsi = rsiSeries(closes, 2);
    const expected = [null, null, 0, 100 / 3, 100 / 6, 50, 250 / 3, 2500 / 46, 7300 / 94, 7300 / 158];
    expected.forEach((e, i) => (e === null ? assert.equal(rsi[i], null) : assertClose(rsi[i], e, `RSI[${i}]`)));
  });

  it('BUY on the bullish divergence at index 5, SELL on the bearish one at index 9', () => {
    const markers = runStrategy('rsi-divergence', flat(closes), { period: 2, lookback: 5, oversold: 30, overbought: 70 });
    assert.deepEqual(brief(markers), [
      [5, 'BUY', 16.5],
      [9, 'SELL', 18.5],
    ]);
    assert.equal(markers[0]!.reason, 'bullish RSI(2) divergence: low 15.5 < 16 while RSI 16.6667 > 0');
  });

  it('lookback 2 (the minimum) still pairs swing points 2 candles apart', () => {
    // swing lows 2 and 4, and swing highs 6 and 8, are exactly 2 candles apart (j - p = 2 <= lookback)
    const ok = runStrategy('rsi-divergence', flat(closes), { period: 2, lookback: 2, oversold: 30, overbought: 70 });
    assert.deepEqual(brief(ok).map(([i, side]) => [i, side]), [
      [5, 'BUY'],
      [9, 'SELL'],
    ]);
  });

  it('divergenceAt: uses lows/highs, needs the zone on the earlier swing, confirms one candle later', () => {
    // lows:        idx 0  1  2  3  4  5
    const lows = [10, 8, 9, 7, 9, 9];
    const rsi = [null, 20, 40, 25, 45, 50];
    // swing lows 1 (8) and 3 (7): lower low, RSI 25 > 20 (higher low); confirmed at i = 4.
    assert.deepEqual(divergenceAt('bullish', lows, rsi, 4, 10, 30), { kind: 'bullish', previous: 1, pivot: 3 });
    assert.equal(divergenceAt('bullish', lows, rsi, 3, 10, 30), null, 'not yet confirmed');
    assert.equal(divergenceAt('bullish', lows, rsi, 4, 10, 19), null, 'earlier RSI low 20 is not <= 19');
    assert.equal(divergenceAt('bullish', lows, rsi, 4, 1, 30), null, 'pivots 2 apart, lookback 1');
    assert.equal(divergenceAt('bullish', lows, [null, 20, 40, 15, 45, 50], 4, 10, 30), null, 'RSI lower low');
    // bearish mirror on highs: highs 1 (12) and 3 (13), RSI 80 then 75.
    const highs = [10, 12, 11, 13, 11, 11];
    assert.deepEqual(divergenceAt('bearish', highs, [null, 80, 60, 75, 50, 50], 4, 10, 70), {
      kind: 'bearish',
      previous: 1,
      pivot: 3,
    });
    assert.equal(divergenceAt('bearish', highs, [null, 80, 60, 85, 50, 50], 4, 10, 70), null, 'RSI higher high');
  });

  it('rejects oversold >= overbought', () => {
    assert.throws(() => runStrategy('rsi-divergence', flat(closes), { oversold: 70, overbought: 70 }), RangeError);
  });
});

describe('strategies: registry and properties', () => {
  const candles = randomCandles(1500, 42);
  const paramSets: { [K in StrategyKind]: Partial<(typeof strategies)[K]['defaults']>[] } = {
    'ma-crossover': [{}, { fast: 3, slow: 8, kind: 'sma' }, { fast: 5, slow: 13, kind: 'ema' }],
    'rsi-divergence': [{}, { period: 7, lookback: 10, oversold: 40, overbought: 60 }],
    'bollinger-breakout': [{}, { period: 10, stdDev: 1.5 }],
    'macd-trend': [{}, { fast: 5, slow: 10, signal: 4 }],
  };

  it('registry lists the four strategies with name, description, defaults and run', () => {
    assert.deepEqual([...strategyKinds].sort(), ['bollinger-breakout', 'ma-crossover', 'macd-trend', 'rsi-divergence']);
    for (const kind of strategyKinds) {
      const s = strategies[kind];
      assert.ok(s.name.length > 0 && s.description.length > 0, kind);
      assert.equal(typeof s.run, 'function');
      assert.ok(Object.isFrozen(s.defaults), `${kind} defaults are frozen`);
    }
    assert.equal(isStrategyKind('macd-trend'), true);
    assert.equal(isStrategyKind('toString'), false);
    assert.equal(isStrategyKind(42), false);
  });

  for (const kind of Object.keys(paramSets) as StrategyKind[]) {
    for (const params of paramSets[kind]) {
      it(`${kind} ${JSON.stringify(params)}: alternates BUY/SELL, starts with BUY, only at input times, deterministic`, () => {
        const snapshot = structuredClone(candles);
        const def = strategies[kind] as (typeof strategies)[StrategyKind];
        const merged = { ...def.defaults, ...params };
        // raw strategy output, before runStrategy's enforceLongOnly safety net
        const raw = (def.run as (c: readonly Candle[], p: typeof merged) => Marker[])(candles, merged);
        assert.ok(raw.length >= 2, `expected some markers on the random series, got ${raw.length}`);
        raw.forEach((m, i) => assert.equal(m.side, i % 2 === 0 ? 'BUY' : 'SELL', `marker ${i}`));

        const byTime = new Map(candles.map((c) => [c.time, c]));
        let prev = -Infinity;
        for (const m of raw) {
          const c = byTime.get(m.time);
          assert.ok(c, `marker time ${m.time} is a candle time`);
          assert.equal(m.price, c.close);
          assert.ok(m.time > prev, 'strictly increasing times');
          assert.ok(m.reason.length > 0);
          prev = m.time;
        }

        const viaRegistry = runStrategy(kind, candles, params);
        assert.deepEqual(viaRegistry, raw, 'runStrategy = raw output (already alternating)');
        assert.deepEqual(runStrategy(kind, candles, params), viaRegistry, 'deterministic');
        assert.deepEqual(candles, snapshot, 'input not mutated');
      });
    }
  }

  it('every strategy returns [] on empty and too-short input', () => {
    for (const kind of strategyKinds) {
      assert.deepEqual(runStrategy(kind, []), []);
      assert.deepEqual(runStrategy(kind, candles.slice(0, 3)), []);
    }
  });

  it('runStrategy merges partial params over defaults and ignores undefined entries', () => {
    const explicit = runStrategy('ma-crossover', candles, { fast: 9, slow: 21, kind: 'ema' });
    assert.deepEqual(runStrategy('ma-crossover', candles), explicit);
    assert.deepEqual(runStrategy('ma-crossover', candles, { fast: undefined }), explicit);
  });

  it('runStrategy rejects unknown kinds and unsorted or non-finite candles', () => {
    assert.throws(() => runStrategy('nope' as StrategyKind, candles), RangeError);
    const swapped = [candles[1]!, candles[0]!, ...candles.slice(2)];
    assert.throws(() => runStrategy('macd-trend', swapped), RangeError);
    const dup = [candles[0]!, candles[0]!];
    assert.throws(() => runStrategy('macd-trend', dup), RangeError);
    const nan = [{ ...candles[0]!, close: Number.NaN }];
    assert.throws(() => runStrategy('macd-trend', nan), RangeError);
  });

  it('enforceLongOnly drops a leading SELL and repeated sides', () => {
    const m = (i: number, side: Marker['side']): Marker => ({ time: T0 + i, side, price: 1, reason: 'x' });
    const out = enforceLongOnly([m(0, 'SELL'), m(1, 'BUY'), m(2, 'BUY'), m(3, 'SELL'), m(4, 'SELL'), m(5, 'BUY')]);
    assert.deepEqual(
      out.map((x) => [x.time - T0, x.side]),
      [
        [1, 'BUY'],
        [3, 'SELL'],
        [5, 'BUY'],
      ],
    );
  });
});
