/**
 * Batched public tickers through ccxt, for the trade monitor: one `fetchTickers(pairs)` request per
 * exchange answers every pair at once (Binance spot: GET /api/v3/ticker/24hr?symbols=[…]).
 * Instances come from the factory (spot, the venue's options, budget, `EXCHANGE_URL_<ID>` origin, the
 * process's shared market list).
 * Vocabulary: a TickerQuote has the last trade price and the exchange's rolling 24 h high/low.
 * Failures are ExchangeError (errors.ts): EXCHANGE_UNKNOWN (400), EXCHANGE_TEMPORARY (503), EXCHANGE_BUSY (503).
 */
import type { Exchange } from 'ccxt';
import type { VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { readFailure } from './errors.js';

/** One pair's ticker. Prices in quote currency; `at` is the exchange timestamp (ms) or our receive time. */
export interface TickerQuote { last: number; high24h: number | null; low24h: number | null; at: number }

/** Answer of one batched request: quotes by pair, and the pairs the exchange does not list. */
export interface TickerBatch { quotes: Map<string, TickerQuote>; unknown: string[] }

/** Reads tickers of many pairs in one request per exchange. */
export interface TickerSource {
  /**
   * Tickers for `pairs` (e.g. "BTC/USDT") on `exchangeId`. Pairs the exchange does not list come back
   * in `unknown` (the market list is reloaded at most every `marketReloadMs` to find new listings).
   * @throws AppError EXCHANGE_UNKNOWN | EXCHANGE_TEMPORARY
   */
  fetch(exchangeId: string, pairs: readonly string[]): Promise<TickerBatch>;
  /** Drops the ccxt instances. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the batched ticker source.
 * @param opts.exchangeUrls lower-case exchange id → origin every request of it goes to (config.exchangeUrls)
 * @param opts.timeoutMs ccxt request timeout, ms
 * @param opts.marketReloadMs least time between two market-list reloads caused by unknown pairs, ms
 * @param opts.budget the app's per-venue request budget; ticker polls are 'prices' traffic (above test-keys and charts, below orders)
 */
export function createTickerSource(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs: number; marketReloadMs: number; budget?: VenueBudget }): TickerSource {
  const factory = new CcxtFactory({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, budget: opts.budget });
  const reloadedAt = new Map<string, number>();

  // Our own loop paces the requests (one per interval); the shared budget only holds them back when the
  // venue's non-order share is spent (a skipped poll is retried on the next interval).
  const instance = factory.perVenue({ traffic: 'prices', maxWaitMs: 0 });

  /** Splits pairs into listed / unlisted, reloading the market list (throttled) when some are unlisted. */
  async function listed(ex: Exchange, pairs: readonly string[]): Promise<{ known: string[]; unknown: string[] }> {
    await ex.loadMarkets();
    const split = () => ({ known: pairs.filter((p) => ex.markets?.[p]), unknown: pairs.filter((p) => !ex.markets?.[p]) });
    let r = split();
    if (r.unknown.length && Date.now() - (reloadedAt.get(ex.id) ?? 0) >= opts.marketReloadMs) {
      reloadedAt.set(ex.id, Date.now());
      await ex.loadMarkets(true);
      r = split();
    }
    return r;
  }

  return {
    async fetch(exchangeId, pairs) {
      const ex = instance(exchangeId);
      try {
        const { known, unknown } = await listed(ex, pairs);
        const quotes = new Map<string, TickerQuote>();
        if (!known.length) return { quotes, unknown };
        const tickers = await ex.fetchTickers(known);
        const now = Date.now();
        for (const t of Object.values(tickers)) {
          const last = Number(t.last ?? t.close);
          if (!t.symbol || !Number.isFinite(last) || last <= 0) continue;
          quotes.set(t.symbol, { last, high24h: num(t.high), low24h: num(t.low), at: Number(t.timestamp ?? now) || now });
        }
        return { quotes, unknown };
      } catch (err) {
        throw readFailure(err, exchangeId, 'tickers');
      }
    },
    async close() {
      await factory.close();
    },
  };
}

const num = (v: unknown) => (v === undefined || v === null || !Number.isFinite(Number(v)) ? null : Number(v));
