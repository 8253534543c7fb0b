/**
 * The reference exchange's market list (public, no keys) through ccxt `loadMarkets`: which spot pairs
 * exist, for the signal checks (a strategy without declared pairs accepts the pairs its reference
 * exchange lists; TradingView tickers map to a listed market). Spot only (no sapi/fapi/dapi while
 * loading), pointed at `EXCHANGE_URL_<ID>` when configured. Loaded by the monitor process (never on a
 * request path) and shared with the other processes; see src/monitor/reference-prices.ts. Its requests
 * spend the venue's request budget as 'prices' traffic, like the monitor's tickers.
 * ccxt errors are converted here to AppError: EXCHANGE_UNKNOWN (400), EXCHANGE_TEMPORARY (503).
 */
import ccxt from 'ccxt';
import { AppError } from '../lib/errors.js';
import type { VenueBudget } from './budget.js';
import { attachBudget } from './budgeted-ccxt.js';
import { pointCcxtAt } from './local-origin.js';

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

const SPOT_ONLY = { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } as const;

type CcxtExchange = InstanceType<typeof ccxt.Exchange>;

/**
 * Creates the market-list source.
 * @param opts.exchangeUrls lower-case exchange id → origin replacing every ccxt API origin (config.exchangeUrls)
 * @param opts.timeoutMs ccxt request timeout, ms
 * @param opts.budget the app's per-venue request budget (a load that would wait for it fails and is retried later)
 */
export function createMarketListSource(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs: number; budget?: VenueBudget }): MarketListSource {
  const instances = new Map<string, CcxtExchange>();

  function instance(exchangeId: string): CcxtExchange {
    const id = exchangeId.toLowerCase();
    let ex = instances.get(id);
    if (ex) return ex;
    const Ctor = (ccxt as unknown as Record<string, new (o: object) => CcxtExchange>)[id];
    if (!(ccxt.exchanges as string[]).includes(id) || typeof Ctor !== 'function') throw new AppError('EXCHANGE_UNKNOWN', `unknown exchange "${exchangeId}"`, 400);
    ex = new Ctor({ enableRateLimit: false, timeout: opts.timeoutMs, options: { ...SPOT_ONLY } });
    const origin = opts.exchangeUrls[id];
    if (origin) pointCcxtAt(ex as unknown as { urls: { api?: unknown } }, origin);
    attachBudget(ex, { budget: opts.budget, exchangeId: id, origin, traffic: 'prices', maxWaitMs: 0 });
    instances.set(id, ex);
    return ex;
  }

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
        if (err instanceof AppError) throw err;
        throw new AppError('EXCHANGE_TEMPORARY', `${exchangeId} market list unavailable: ${(err as Error).message?.slice(0, 200)}`, 503, { cause: err });
      }
    },
    async close() {
      for (const ex of instances.values()) await (ex.close?.() ?? Promise.resolve()).catch(() => {});
      instances.clear();
    },
  };
}
