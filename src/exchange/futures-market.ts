/**
 * What the executor reads of a venue's USDⓈ-margined perpetuals besides orders, through the key's ccxt instance
 * (FuturesOperations.market): the linear perpetual of a spot pair, its precision and minimums, the mark price,
 * the account's free margin and the highest leverage the venue's bracket allows for a notional.
 * ccxt 4.5.84 facts:
 * - The perpetual of BTC/USDT is `BTC/USDT:USDT` on both venues (linear, settled in USDT, contractSize 1).
 * - Binance: MIN_NOTIONAL is `limits.cost.min`; the leverage brackets are `fetchLeverageTiers`
 *   (GET /fapi/v1/leverageBracket, signed): per notional band a maxLeverage. The mark price is
 *   `fetchMarkPrice` (GET /fapi/v1/premiumIndex).
 * - Bybit: `limits.leverage.max` is instruments-info `leverageFilter.maxLeverage` (the first risk-limit tier);
 *   no fetchMarkPrice: the ticker's `markPrice` (GET /v5/market/tickers).
 * - Free margin: `fetchBalance().free.USDT` (Binance availableBalance; Bybit the unified account's available).
 */
import type { Exchange } from 'ccxt';
import { classifyCcxtError } from './errors.js';
import type { FuturesDialect } from './dialects/futures-types.js';

/** A perpetual's order rules in base units (contractSize 1 on the linear USDT contracts we trade). */
export interface FuturesRules { symbol: string; settle: string; minAmount: number; minCost: number }

const num = (v: unknown): number | null => (v === undefined || v === null || !Number.isFinite(Number(v)) ? null : Number(v));
/** Leverage brackets, per venue and symbol, kept for an hour (they change rarely; one signed call each). */
const BRACKET_TTL_MS = 3_600_000;
const brackets = new Map<string, { at: number; tiers: { min: number; max: number; leverage: number }[] }>();

export class FuturesMarket {
  constructor(private readonly ex: Exchange, private readonly dialect: FuturesDialect) {}

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw classifyCcxtError(err, this.dialect);
    }
  }

  /** The USDT-settled linear perpetual of a spot pair ('BTC/USDT' → 'BTC/USDT:USDT'), or null when the venue lists none. */
  symbolOf(pair: string): string | null {
    const [, quote = ''] = pair.split('/');
    const symbol = `${pair}:${quote}`;
    const m = this.ex.markets?.[symbol];
    return m && m.linear !== false && m.active !== false ? symbol : null;
  }

  rules(symbol: string): FuturesRules {
    const m = this.ex.market(symbol);
    return { symbol, settle: String(m.settle ?? 'USDT'), minAmount: num(m.limits?.amount?.min) ?? 0, minCost: num(m.limits?.cost?.min) ?? 0 };
  }

  /** `amount` rounded down to the contract's step (0 when below one step). */
  amountToPrecision(symbol: string, amount: number): number {
    try {
      return Number(this.ex.amountToPrecision(symbol, amount));
    } catch {
      return 0;
    }
  }

  /** `price` rounded to the contract's tick. */
  priceToPrecision(symbol: string, price: number): number {
    return Number(this.ex.priceToPrecision(symbol, price));
  }

  /** The venue's mark price of the perpetual (public). */
  async markPrice(symbol: string): Promise<number | null> {
    if (this.ex.has.fetchMarkPrice === true) {
      const t = await this.call(() => this.ex.fetchMarkPrice(symbol));
      return num(t.markPrice) ?? num(t.last);
    }
    const t = await this.call(() => this.ex.fetchTicker(symbol));
    return num(t.markPrice) ?? num(t.last);
  }

  /** The account's free margin in the settle currency. */
  async freeMargin(settle: string): Promise<number> {
    const b = await this.call(() => this.ex.fetchBalance());
    return num((b.free as unknown as Record<string, unknown> | undefined)?.[settle]) ?? 0;
  }

  /**
   * The highest leverage the venue allows for a position of `notional` (settle currency) on `symbol`: the
   * listed maximum where the market carries one (Bybit), else the leverage bracket containing the notional
   * (Binance, cached for an hour).
   */
  async maxLeverage(symbol: string, notional: number): Promise<number | null> {
    const listed = num(this.ex.market(symbol).limits?.leverage?.max);
    if (listed !== null && listed > 0) return listed;
    if (this.ex.has.fetchLeverageTiers !== true) return null;
    const key = `${this.dialect.id}|${symbol}`;
    let hit = brackets.get(key);
    if (!hit || Date.now() - hit.at > BRACKET_TTL_MS) {
      const all = await this.call(() => this.ex.fetchLeverageTiers([symbol]));
      const tiers = (all[symbol] ?? []).map((t) => ({ min: num(t.minNotional) ?? 0, max: num(t.maxNotional) ?? Infinity, leverage: num(t.maxLeverage) ?? 0 }));
      hit = { at: Date.now(), tiers };
      brackets.set(key, hit);
    }
    const tier = hit.tiers.find((t) => notional >= t.min && notional < t.max) ?? hit.tiers.at(-1);
    return tier ? tier.leverage : null;
  }
}
