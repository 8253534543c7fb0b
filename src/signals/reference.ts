/**
 * What the signal checks need from the reference market (MONITOR_EXCHANGE), read from memory only: the
 * accept path never waits on the network (TradingView gives up at 3 s). Implemented by
 * src/monitor/reference-prices.ts (the trade monitor's price feed in this process, or its copy shared
 * through Redis); absent or empty when no prices can be had (the offline quick start).
 *
 * Vocabulary: a MarketList is the set of spot markets the reference exchange lists; a ReferencePrice the
 * exchange's last price for a pair and when it was received.
 */

/** The reference exchange's last price of a pair and when this system received it (ms since epoch). */
export interface ReferencePrice { last: number; at: number }

/** The reference market as the coordinator and the ingest routes see it. */
export interface ReferenceMarket {
  /** ccxt id of the reference exchange, for messages. */
  readonly exchange: string;
  /** The last price of `pair` if one was received within the configured age (PRICE_MAX_AGE_MS). */
  price(pair: string): ReferencePrice | undefined;
  /** The listed markets, or undefined while the list is not known (offline, not loaded yet). */
  markets(): MarketList | undefined;
  /**
   * Asks the price feed to poll `pair` from now on (a signal arrived without a fresh price). Never blocks,
   * never throws; repeated calls are cheap.
   */
  noteInterest(pair: string): void;
  /** A signal named a pair the market list lacks: the list may be stale (a new listing). Throttled reload. */
  noteUnlisted(pair: string): void;
}

/** The reference exchange's spot markets, indexed for pair checks and ticker mapping. */
export class MarketList {
  private readonly symbols = new Set<string>();
  /** "DOTUSD" → ["DOT/USD", …]: every listed market whose base + quote (or exchange id) spells it. */
  private readonly byConcat = new Map<string, string[]>();

  /**
   * @param markets [symbol, base, quote, exchange id] of each listed market
   * @param loadedAt when the exchange answered (ms since epoch)
   */
  constructor(markets: Iterable<readonly [string, string, string, string]>, readonly loadedAt: number) {
    for (const [symbol, base, quote, id] of markets) {
      const s = symbol.toUpperCase();
      this.symbols.add(s);
      for (const key of new Set([`${base}${quote}`.toUpperCase(), id.toUpperCase().replace(/[^A-Z0-9]/g, '')])) {
        const list = this.byConcat.get(key);
        if (list) { if (!list.includes(s)) list.push(s); } else this.byConcat.set(key, [s]);
      }
    }
  }

  get size(): number { return this.symbols.size; }

  /** True if `pair` ("BTC/USDT") is listed. */
  has(pair: string): boolean { return this.symbols.has(pair.toUpperCase()); }

  /**
   * The listed market a separator-less ticker ("DOTUSD") names, or undefined. Only listed markets count,
   * so DOTUSD is DOT/USD where DO/TUSD does not exist; if several listed markets spell it, the longest
   * quote wins.
   */
  resolve(ticker: string): string | undefined {
    const candidates = this.byConcat.get(ticker.toUpperCase());
    if (!candidates?.length) return undefined;
    const quoteLength = (s: string) => s.length - s.indexOf('/') - 1;
    return [...candidates].sort((a, b) => quoteLength(b) - quoteLength(a) || a.localeCompare(b))[0];
  }
}
