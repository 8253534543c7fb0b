/**
 * FuturesAccounts: futures operations of many API keys through ONE ccxt instance per venue (built by the
 * factory: budget with the caller's traffic class, timeouts, origin, shared market list). The instance takes
 * its credentials from the calling key's scope (key-scope.ts); each key gets a
 * Proxy of the instance whose methods run inside that key's scope. Concurrent keys never see each other's
 * credentials, and no per-key ccxt instance (milliseconds of CPU and memory each) is built: the reconciliation
 * polls hundreds of keys.
 *
 * FuturesAccount adds to FuturesOperations what the reconciliation reads: the venue's record of closes it made
 * itself (fills that reduced a position, with realised PnL after fees) and funding (dialects/futures-closes.ts).
 */
import type { Exchange } from 'ccxt';
import type { Traffic, VenueBudget } from './budget.js';
import { CcxtFactory } from './ccxt-factory.js';
import { classifyCcxtError, ExchangeError } from './errors.js';
import { futuresClosesFor, type ClosedFills, type FuturesClosesDialect } from './dialects/futures-closes.js';
import { futuresDialectFor, FuturesOperations, type FuturesOperationsOptions, type PositionSide } from './futures.js';
import { inScope, scopeCredentials, type CallScope } from './key-scope.js';

export type { ClosedFills } from './dialects/futures-closes.js';

/** `base` as seen by one key: every method runs in the key's scope. */
function keyed(base: Exchange, creds: CallScope): Exchange {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(base, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let w = wrapped.get(prop);
      if (!w) {
        const f = v as (...a: unknown[]) => unknown;
        w = (...args: unknown[]) => inScope(creds, () => f.apply(target, args));
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}

/** One key's futures account: the operations of futures.ts plus the venue's record of its own closes. */
export class FuturesAccount extends FuturesOperations {
  constructor(private readonly keyedEx: Exchange, private readonly venue: string, private readonly closesDialect: FuturesClosesDialect, apiKey: string, opts: FuturesOperationsOptions) {
    super(keyedEx, venue, apiKey, opts);
  }

  private async read<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw classifyCcxtError(err, futuresDialectFor(this.venue));
    }
  }

  /** Fills since `since` (ms) that reduced a `side` position of `symbol`: quantity, average price, PnL after fees. */
  closes(symbol: string, side: PositionSide, since: number): Promise<ClosedFills> {
    return this.read(() => this.closesDialect.closes(this.keyedEx, symbol, side, since));
  }

  /** What a liquidation of `symbol` since `since` (ms) cost beyond its fills (negative; Binance's clearance fee). */
  liquidationClearance(symbol: string, since: number): Promise<number> {
    return this.read(() => this.closesDialect.clearance(this.keyedEx, symbol, since));
  }

  /**
   * Our client ids of the conditional (stop / take-profit) orders resting on `symbol`: one request (Binance
   * `GET /fapi/v1/openAlgoOrders?symbol=`, Bybit `/v5/order/realtime` with orderFilter StopOrder, which also
   * lists recently closed ones: only `open` counts).
   */
  restingConditionalIds(symbol: string): Promise<Set<string>> {
    return this.read(async () => {
      const open = await this.keyedEx.fetchOpenOrders(symbol, undefined, undefined, { trigger: true });
      return new Set(open.filter((o) => o.status === 'open' && o.clientOrderId).map((o) => String(o.clientOrderId)));
    });
  }

  /** Net funding of `symbol` since `since` (ms): + received, − paid; 0 where the venue reports none. */
  funding(symbol: string, since: number): Promise<number> {
    return this.read(() => this.closesDialect.funding(this.keyedEx, symbol, since));
  }
}

export interface FuturesAccountsOptions {
  /** Venue → origin every request goes to (config.exchangeUrls). */
  exchangeUrls: Readonly<Record<string, string>>;
  timeoutMs: number;
  recvWindowMs?: number;
  /** The app's per-venue budget; every call spends it as `traffic`. */
  budget?: VenueBudget;
  traffic: Traffic;
  /** Longest a call waits for budget (ms) before ExchangeBusy (nothing sent). */
  maxWaitMs?: number;
  /** Passed to each account's FuturesOperations. */
  operations?: FuturesOperationsOptions;
}

export class FuturesAccounts {
  private readonly factory: CcxtFactory;
  private readonly bases = new Map<string, Exchange>();

  constructor(private readonly opts: FuturesAccountsOptions) {
    this.factory = new CcxtFactory({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, recvWindowMs: opts.recvWindowMs, budget: opts.budget });
  }

  private base(venue: string): Exchange {
    const known = this.bases.get(venue);
    if (known) return known;
    const ex = futuresDialectFor(venue) && this.factory.create(venue, { market: 'futures', traffic: this.opts.traffic, maxWaitMs: this.opts.maxWaitMs });
    if (!ex) throw new ExchangeError('rejected', `no futures trading on ${venue}`, 'NotSupported');
    scopeCredentials(ex);
    this.bases.set(venue, ex);
    return ex;
  }

  /** Loads the venue's futures markets (once per process; refreshed in the background). Throws ExchangeError. */
  async ensureMarkets(venue: string): Promise<void> {
    const ex = this.base(venue);
    try {
      await ex.loadMarkets();
    } catch (err) {
      throw classifyCcxtError(err, futuresDialectFor(venue));
    }
  }

  /** The account of one key (call ensureMarkets first). The key material lives only in the returned object. */
  forKey(venue: string, apiKey: string, secret: string): FuturesAccount {
    const closes = futuresClosesFor(venue);
    if (!closes) throw new ExchangeError('rejected', `no futures trading on ${venue}`, 'NotSupported');
    return new FuturesAccount(keyed(this.base(venue), { apiKey, secret }), venue, closes, apiKey, this.opts.operations ?? {});
  }

  /** The venue's public mark price of a perpetual (no key; call ensureMarkets first). Throws ExchangeError. */
  markPrice(venue: string, symbol: string): Promise<number | null> {
    return this.forKey(venue, '', '').market.markPrice(symbol);
  }

  /** Minimum ms between requests of one key on the venue (ccxt's rateLimit). */
  minIntervalMs(venue: string): number {
    return Number(this.base(venue).rateLimit ?? 50);
  }

  /** Closes the instances. */
  async close(): Promise<void> {
    this.bases.clear();
    await this.factory.close();
  }
}
