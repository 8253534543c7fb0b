/**
 * Public market data through ccxt (no API keys): OHLCV candles for chart pages.
 * One ccxt instance per exchange id, created on first use by the factory (spot, the venue's options, budget,
 * `EXCHANGE_URL_<ID>` origin, the process's shared market list).
 * Vocabulary: an OhlcvCandle has `time` in unix SECONDS (candle open), like lightweight-charts.
 * Failures are ExchangeError (errors.ts): EXCHANGE_UNKNOWN (400), EXCHANGE_BAD_SYMBOL (400), EXCHANGE_TEMPORARY
 * (503), EXCHANGE_BUSY (503: the venue's request budget for non-order calls is spent or the venue asked us to
 * back off; nothing was sent).
 */
import ccxt from 'ccxt';
import type { VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { readFailure } from './errors.js';

/** One candle; `time` is the candle open time in unix seconds. */
export interface OhlcvCandle { time: number; open: number; high: number; low: number; close: number; volume: number }

/** Reads public market data from exchanges. */
export interface PublicMarketData {
  /**
   * The newest `limit` candles of `pair` (e.g. "BTC/USDT") on `timeframe` (e.g. "1m"), oldest first.
   * @throws AppError EXCHANGE_UNKNOWN | EXCHANGE_BAD_SYMBOL | EXCHANGE_TEMPORARY
   */
  fetchCandles(exchangeId: string, pair: string, timeframe: string, limit: number): Promise<OhlcvCandle[]>;
  /** Drops the ccxt instances. Idempotent. */
  close(): Promise<void>;
}

/** Minimum time between two market-list reloads caused by unknown symbols, per exchange. */
const MARKET_RELOAD_MS = 5000;

/**
 * Creates the public market-data client.
 * @param opts.exchangeUrls lower-case exchange id → origin every request of it goes to (config.exchangeUrls)
 * @param opts.timeoutMs ccxt request timeout, ms (default 5000)
 * @param opts.budget the app's per-venue request budget; chart reads are non-order traffic
 */
export function createPublicMarketData(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs?: number; budget?: VenueBudget }): PublicMarketData {
  const factory = new CcxtFactory({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs ?? 5000, budget: opts.budget });
  const reloadedAt = new Map<string, number>();

  const instance = factory.perVenue({ traffic: 'other' });

  return {
    async fetchCandles(exchangeId, pair, timeframe, limit) {
      const ex = instance(exchangeId);
      try {
        const rows = await ex.fetchOHLCV(pair, timeframe, undefined, limit).catch(async (err) => {
          // A market listed after ccxt loaded its list: reload it (at most every MARKET_RELOAD_MS) and retry once.
          const last = reloadedAt.get(ex.id) ?? 0;
          if (!(err instanceof ccxt.BadSymbol) || Date.now() - last < MARKET_RELOAD_MS) throw err;
          reloadedAt.set(ex.id, Date.now());
          await ex.loadMarkets(true);
          return ex.fetchOHLCV(pair, timeframe, undefined, limit);
        });
        return rows.map((r) => ({ time: Math.floor(Number(r[0]) / 1000), open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]), volume: Number(r[5] ?? 0) }));
      } catch (err) {
        throw readFailure(err, exchangeId, `candles of ${pair}`);
      }
    },
    async close() {
      await factory.close();
    },
  };
}
