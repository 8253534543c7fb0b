/**
 * Public market data through ccxt (no API keys): OHLCV candles for chart pages.
 * One ccxt instance per exchange id, created on first use, spot only (no sapi/fapi/dapi calls while
 * loading markets), pointed at `EXCHANGE_URL_<ID>` when configured (tests, sandboxes).
 * Vocabulary: an OhlcvCandle has `time` in unix SECONDS (candle open), like lightweight-charts.
 * ccxt errors are converted here, and only here, to AppError:
 *   EXCHANGE_UNKNOWN (400), EXCHANGE_BAD_SYMBOL (400), EXCHANGE_TEMPORARY (503), EXCHANGE_BUSY (503: the
 *   venue's request budget for non-order calls is spent or the venue asked us to back off; nothing was sent).
 */
import ccxt from 'ccxt';
import { AppError } from '../lib/errors.js';
import { ExchangeBusy, type VenueBudget } from './budget.js';
import { attachBudget } from './budgeted-ccxt.js';
import { pointCcxtAt } from './local-origin.js';

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

/** Options that keep ccxt.binance (and friends) on spot endpoints while loading markets. */
const SPOT_ONLY = { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } as const;

/** Minimum time between two market-list reloads caused by unknown symbols, per exchange. */
const MARKET_RELOAD_MS = 5000;

type CcxtExchange = InstanceType<typeof ccxt.Exchange>;

/**
 * Creates the public market-data client.
 * @param opts.exchangeUrls lower-case exchange id → origin replacing every ccxt API origin (config.exchangeUrls)
 * @param opts.timeoutMs ccxt request timeout, ms (default 5000)
 * @param opts.budget the app's per-venue request budget; chart reads are non-order traffic
 */
export function createPublicMarketData(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs?: number; budget?: VenueBudget }): PublicMarketData {
  const instances = new Map<string, CcxtExchange>();
  const reloadedAt = new Map<string, number>();

  function instance(exchangeId: string): CcxtExchange {
    const id = exchangeId.toLowerCase();
    let ex = instances.get(id);
    if (ex) return ex;
    const Ctor = (ccxt as unknown as Record<string, new (o: object) => CcxtExchange>)[id];
    if (!(ccxt.exchanges as string[]).includes(id) || typeof Ctor !== 'function') throw new AppError('EXCHANGE_UNKNOWN', `unknown exchange "${exchangeId}"`, 400);
    ex = new Ctor({ enableRateLimit: true, timeout: opts.timeoutMs ?? 5000, options: { ...SPOT_ONLY } });
    const origin = opts.exchangeUrls[id];
    if (origin) pointCcxtAt(ex as unknown as { urls: { api?: unknown } }, origin);
    attachBudget(ex, { budget: opts.budget, exchangeId: id, origin, traffic: 'other' });
    instances.set(id, ex);
    return ex;
  }

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
        throw convert(err, exchangeId, pair);
      }
    },
    async close() {
      for (const ex of instances.values()) await (ex.close?.() ?? Promise.resolve()).catch(() => {});
      instances.clear();
    },
  };
}

function convert(err: unknown, exchangeId: string, pair: string): AppError {
  if (err instanceof AppError && !(err instanceof ExchangeBusy)) return err;
  if (err instanceof ccxt.BadSymbol || err instanceof ccxt.BadRequest) {
    return new AppError('EXCHANGE_BAD_SYMBOL', `${exchangeId} has no market ${pair} (or refused the request)`, 400, { cause: err });
  }
  if (err instanceof ExchangeBusy) return new AppError('EXCHANGE_BUSY', err.message, 503, { cause: err, details: { retryAfterSeconds: Math.ceil(err.retryAfterMs / 1000) } });
  return new AppError('EXCHANGE_TEMPORARY', `${exchangeId} market data unavailable: ${(err as Error).message?.slice(0, 200)}`, 503, { cause: err });
}
