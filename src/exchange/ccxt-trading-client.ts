/**
 * TradingClient over a shared ccxt instance for one API key: every call runs in the key's scope
 * (key-scope.ts) and goes through the venue's dialect (dialects/), which maps our stored client id to the
 * one the venue accepts and finds orders by it. ccxt errors become ExchangeError through errors.ts.
 */
import type { Exchange } from 'ccxt';
import { classifyCcxtError, ExchangeError } from './errors.js';
import type { VenueDialect } from './dialects/index.js';
import { sleep } from './dialects/types.js';
import { inScope, type CallScope } from './key-scope.js';
import type { ExchangeOrder, MarketRules, OrderRequest, ProtectiveRequest, TradingClient } from './trading-types.js';

function feesOf(o: Record<string, unknown>): { currency: string; cost: number }[] {
  const list = (Array.isArray(o.fees) && o.fees.length ? o.fees : o.fee ? [o.fee] : []) as { currency?: unknown; cost?: unknown }[];
  return list.filter((f) => typeof f?.currency === 'string' && Number(f.cost) > 0).map((f) => ({ currency: String(f.currency), cost: Number(f.cost) }));
}

/** `ourId`: our stored client id of the order (the venue knows it under the dialect's id). */
function toOrder(o: Record<string, unknown>, ourId?: string): ExchangeOrder {
  return {
    id: String(o.id ?? ''), clientOrderId: ourId ?? String(o.clientOrderId ?? ''), status: String(o.status ?? ''),
    filled: Number(o.filled ?? 0), amount: Number(o.amount ?? 0), average: o.average == null ? null : Number(o.average), fees: feesOf(o), raw: o.info ?? o,
  };
}

/** Runs a ccxt call, its errors classified as ExchangeError (errors.ts). */
export async function converted<T>(f: () => Promise<T>, dialect?: VenueDialect): Promise<T> {
  try { return await f(); } catch (err) { throw classifyCcxtError(err, dialect); }
}

/** How long after a create whose answer carries no fill the order is looked for (ms), and how often. */
const CONFIRM_MS = 2000;
const CONFIRM_EVERY_MS = 150;

export class CcxtTradingClient implements TradingClient {
  readonly minIntervalMs: number;
  readonly protectiveOrders: boolean;
  private readonly base: Exchange;
  constructor(private readonly ex: Exchange, private readonly dialect: VenueDialect, private readonly creds: CallScope) {
    this.base = ex;
    this.minIntervalMs = Number(ex.rateLimit ?? 50);
    this.protectiveOrders = dialect.protectiveOrders;
  }

  private as<T>(f: () => Promise<T>, signedAt?: number): Promise<T> {
    return inScope({ ...this.creds, signedAt }, () => converted(f, this.dialect));
  }

  rules(symbol: string): MarketRules {
    const m = this.base.markets?.[symbol];
    if (!m) throw new ExchangeError('rejected', `market ${symbol} is not listed`, 'BadSymbol');
    return { symbol, base: m.base, quote: m.quote, minAmount: Number(m.limits?.amount?.min ?? 0), minCost: Number(m.limits?.cost?.min ?? 0) };
  }

  amountToPrecision(symbol: string, amount: number): number {
    try { return Number(this.base.amountToPrecision(symbol, amount)); } catch { return 0; }
  }

  priceToPrecision(symbol: string, price: number): number {
    return Number(this.base.priceToPrecision(symbol, price));
  }

  quoteSizedBuy(symbol: string): boolean {
    const m = this.base.markets?.[symbol];
    // Binance lists per symbol whether MARKET orders may use quoteOrderQty; other venues have no such flag.
    const allowed = (m?.info as { quoteOrderQtyMarketAllowed?: unknown } | undefined)?.quoteOrderQtyMarketAllowed;
    return !!m?.spot && this.base.has?.createMarketBuyOrderWithCost === true && allowed !== false;
  }

  async createOrder(req: OrderRequest, signedAt: number): Promise<ExchangeOrder> {
    const venueId = this.dialect.venueClientId(req.clientOrderId);
    const params: Record<string, unknown> = { clientOrderId: venueId };
    if ((req.stopLossPrice !== undefined || req.takeProfitPrice !== undefined) && !this.dialect.protectiveOrders) {
      // ccxt would drop the trigger on such a venue and the sell would execute at once.
      throw new ExchangeError('rejected', `${this.dialect.id} spot has no protective orders`, 'NotSupported');
    }
    if (req.stopLossPrice !== undefined) params.stopLossPrice = req.stopLossPrice;
    if (req.takeProfitPrice !== undefined) params.takeProfitPrice = req.takeProfitPrice;
    // ccxt truncates a cost to the market's precision (never up) and sends it in the venue's quote field
    // (Binance/MEXC quoteOrderQty, Bybit a quote-denominated qty).
    const cost = req.cost;
    const placed = toOrder(await this.as(() => (cost !== undefined
      ? this.ex.createMarketBuyOrderWithCost(req.symbol, cost, params)
      : this.ex.createOrder(req.symbol, 'market', req.side, req.amount, undefined, params)), signedAt) as unknown as Record<string, unknown>, req.clientOrderId);
    return this.dialect.createReportsFill ? placed : this.confirm(req.symbol, req.clientOrderId);
  }

  /**
   * The order just created, as the venue's lookup reports it (venues whose create answer has no status or
   * fill). Looks until it is no longer open or CONFIRM_MS passed. Never found: temporary (it was placed;
   * the next attempt's lookup records it, never a resend).
   */
  private async confirm(symbol: string, ourId: string): Promise<ExchangeOrder> {
    const end = Date.now() + CONFIRM_MS;
    for (;;) {
      const o = await this.fetchOrder(symbol, ourId);
      if (o && o.status !== 'open') return o;
      if (Date.now() >= end) {
        if (o) return o;
        throw new ExchangeError('temporary', `${this.dialect.id} accepted order ${ourId} but its lookup does not show it yet`, 'NotYetVisible');
      }
      await sleep(CONFIRM_EVERY_MS);
    }
  }

  fetchOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.byClientId('findByClientId', symbol, clientOrderId);
  }

  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.byClientId('cancelByClientId', symbol, clientOrderId);
  }

  /** The dialect's lookup or cancel by our client id; null when the venue has no such (open) order. */
  private async byClientId(op: 'findByClientId' | 'cancelByClientId', symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    try {
      const o = await this.as(() => this.dialect[op](this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
      return o ? toOrder(o, clientOrderId) : null;
    } catch (err) {
      if (err instanceof ExchangeError && err.kind === 'notFound') return null;
      throw err;
    }
  }

  async placeProtective(req: ProtectiveRequest, signedAt: number): Promise<ExchangeOrder> {
    if (!this.dialect.protectiveOrders) throw new ExchangeError('rejected', `${this.dialect.id} spot has no protective orders`, 'NotSupported');
    const p = this.dialect.protective;
    if (!p) {
      const trigger = req.stopLoss !== null ? { stopLossPrice: req.stopLoss } : { takeProfitPrice: req.takeProfit ?? undefined };
      return this.createOrder({ symbol: req.symbol, side: 'sell', amount: req.amount, clientOrderId: req.clientOrderId, ...trigger }, signedAt);
    }
    const spec = { ...req, venueId: this.dialect.venueClientId(req.clientOrderId) };
    return toOrder(await this.as(() => p.place(this.ex, spec), signedAt), req.clientOrderId);
  }

  async findProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const p = this.dialect.protective;
    if (!p) return this.fetchOrder(symbol, clientOrderId);
    const o = await this.as(() => p.find(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  async cancelProtective(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const p = this.dialect.protective;
    if (!p) return (await this.cancelOrder(symbol, clientOrderId)) ?? this.fetchOrder(symbol, clientOrderId);
    const o = await this.as(() => p.cancel(this.ex, symbol, this.dialect.venueClientId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  async freeBalance(asset: string): Promise<number> {
    const bal = await this.as(() => this.ex.fetchBalance());
    return Number((bal.free as unknown as Record<string, number | undefined>)?.[asset] ?? 0);
  }
}
