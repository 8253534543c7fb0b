/**
 * The reference exchange's market list (public, no keys) through ccxt `loadMarkets`: which spot pairs
 * exist, for the signal checks (a strategy without declared pairs accepts the pairs its reference
 * exchange lists; TradingView tickers map to a listed market). The instance comes from the factory (spot,
 * the venue's options, budget, `EXCHANGE_URL_<ID>` origin); each load refreshes the process's shared market
 * list of the venue, so the executor and the charts see new listings too. Loaded by the monitor process (never on a
 * request path) and shared with the other processes; see src/monitor/reference-prices.ts. Its requests
 * spend the venue's request budget as 'prices' traffic, like the monitor's tickers.
 * Failures are ExchangeError (errors.ts): EXCHANGE_UNKNOWN (400), EXCHANGE_TEMPORARY (503), EXCHANGE_BUSY (503).
 */
import type { VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { readFailure } from './errors.js';

/** One listed spot market: the unified symbol ("BTC/USDT"), its base and quote, and the exchange's id ("BTCUSDT"). */
export interface ListedMarket { symbol: string; base: string; quote: string; id: string }

/** Loads the market list of one exchange. */
export interface MarketListSource {
  /**
   * Every active spot market of `exchangeId`, read fresh from the exchange.
   * @throws AppError EXCHANGE_UNKNOWN | EXCHANGE_TEMPORARY
   */
  load(exchangeId: string): Promise<ListedMarket[]>;
  /** Drops the ccxt instances. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the market-list source.
 * @param opts.exchangeUrls lower-case exchange id → origin every request of it goes to (config.exchangeUrls)
 * @param opts.timeoutMs ccxt request timeout, ms
 * @param opts.budget the app's per-venue request budget (a load that would wait for it fails and is retried later)
 */
export function createMarketListSource(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs: number; budget?: VenueBudget }): MarketListSource {
  const factory = new CcxtFactory({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, budget: opts.budget });

  const instance = factory.perVenue({ traffic: 'prices', maxWaitMs: 0 });

  return {
    async load(exchangeId) {
      const ex = instance(exchangeId);
      try {
        const markets = await ex.loadMarkets(true);
        const out: ListedMarket[] = [];
        for (const m of Object.values(markets)) {
          if (!m || !m.spot || m.active === false || !m.symbol || !m.base || !m.quote) continue;
          out.push({ symbol: m.symbol, base: m.base, quote: m.quote, id: String(m.id ?? `${m.base}${m.quote}`) });
        }
        return out;
      } catch (err) {
        throw readFailure(err, exchangeId, 'market list');
      }
    },
    async close() {
      await factory.close();
    },
  };
}
