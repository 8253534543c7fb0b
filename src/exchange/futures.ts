/**
 * Exchange-side futures operations (USDⓈ-margined linear perpetuals) for one API key, through ccxt only:
 * leverage and margin mode made idempotent, position-mode detection, market entries, reduce-only closes,
 * reduce-only stop-loss / take-profit orders under our deterministic client ids, lookups, cancels, positions.
 * The venue specifics live in the futures dialects (dialects/binance-futures.ts, dialects/bybit-linear.ts);
 * ccxt errors become ExchangeError here (classifyCcxtError with the dialect's codes).
 *
 * The ccxt instance is built elsewhere (the futures profile of ccxt-factory.ts: Binance `binanceusdm`, Bybit
 * `bybit` with the linear category) with this key's credentials; its markets must be loaded.
 */
import { createHash } from 'node:crypto';
import type { Exchange } from 'ccxt';
import { classifyCcxtError, ExchangeError } from './errors.js';
import { binanceFutures } from './dialects/binance-futures.js';
import { bybitLinear } from './dialects/bybit-linear.js';
import type { CcxtOrder } from './dialects/types.js';
import type { ExchangeOrder } from './trading-types.js';
import type { FuturesDialect, FuturesMarginMode, PositionMode } from './dialects/futures-types.js';
import { FuturesMarket } from './futures-market.js';

export type { FuturesMarginMode, PositionMode } from './dialects/futures-types.js';
export type PositionSide = 'long' | 'short';

const DIALECTS: Readonly<Record<string, FuturesDialect>> = { binance: binanceFutures, bybit: bybitLinear };

/** The futures dialect of a venue, or undefined where we trade no futures. */
export function futuresDialectFor(venue: string): FuturesDialect | undefined {
  return Object.prototype.hasOwnProperty.call(DIALECTS, venue) ? DIALECTS[venue] : undefined;
}

/** An order as the venue reports it: the spot order's identity and fill fields, plus the futures ones. */
export interface FuturesOrder extends Pick<ExchangeOrder, 'id' | 'clientOrderId' | 'status' | 'filled' | 'amount' | 'average'> {
  triggerPrice: number | null;
  reduceOnly: boolean | null;
  /** The venue order id that carries the fill (Binance: a fired algo order's actualOrderId; else `id`). */
  fillOrderId: string;
  /** Fee of the fill in the settle currency where the order answer reports it (Bybit cumExecFee); else null. */
  fee: number | null;
  raw: unknown;
}

/** An open position (never a flat one). */
export interface FuturesPosition {
  symbol: string;
  side: PositionSide;
  contracts: number;
  entryPrice: number | null;
  markPrice: number | null;
  unrealizedPnl: number;
  liquidationPrice: number | null;
  /** Whether the account holds it in hedge mode. */
  hedged: boolean;
  raw: unknown;
}

/** A stop-loss or take-profit resting as a reduce-only conditional market order. */
export interface ProtectiveOrder {
  symbol: string;
  /** Side of the position it protects. */
  positionSide: PositionSide;
  kind: 'stopLoss' | 'takeProfit';
  triggerPrice: number;
  /** Base quantity (the position's size). */
  amount: number;
  clientOrderId: string;
}

/**
 * Remembers settings already applied and position modes detected, per venue, key and symbol, so repeated
 * entries cost no requests (shared by every FuturesOperations of the process unless one is passed).
 */
export class FuturesSettingsCache {
  private readonly done = new Map<string, string>();
  private readonly modes = new Map<string, { mode: PositionMode; at: number }>();
  constructor(private readonly max = 10_000) {}
  has(key: string, value: string): boolean {
    return this.done.get(key) === value;
  }
  set(key: string, value: string): void {
    if (this.done.size >= this.max) this.done.delete(this.done.keys().next().value as string);
    this.done.set(key, value);
  }
  /** The position mode detected for a key+symbol within the last `ttlMs`, if any. */
  mode(key: string, ttlMs: number): PositionMode | undefined {
    const hit = this.modes.get(key);
    return hit && Date.now() - hit.at < ttlMs ? hit.mode : undefined;
  }
  setMode(key: string, mode: PositionMode): void {
    if (this.modes.size >= this.max) this.modes.delete(this.modes.keys().next().value as string);
    this.modes.set(key, { mode, at: Date.now() });
  }
  /** Forgets the position modes of one key scope. */
  forgetModes(prefix: string): void {
    for (const k of [...this.modes.keys()]) if (k.startsWith(prefix)) this.modes.delete(k);
  }
  /** Forgets everything about one key scope (e.g. after the venue refused an order on settings grounds). */
  forget(prefix: string): void {
    for (const k of [...this.done.keys()]) if (k.startsWith(prefix)) this.done.delete(k);
    this.forgetModes(prefix);
  }
}

/** The process-wide cache used when none is passed. */
export const sharedFuturesSettings = new FuturesSettingsCache();

/** Our stored ids ('sm' + 34 hex) are legal on both venues as they are; anything else is refused before sending. */
const CLIENT_ID = /^[A-Za-z0-9_-]{1,36}$/;
const opposite = (side: PositionSide): 'buy' | 'sell' => (side === 'long' ? 'sell' : 'buy');
const num = (v: unknown): number | null => (v === undefined || v === null || !Number.isFinite(Number(v)) ? null : Number(v));

function toOrder(o: CcxtOrder, ourId: string): FuturesOrder {
  return {
    id: String(o.id ?? ''), clientOrderId: ourId, status: String(o.status ?? ''), filled: Number(o.filled ?? 0), amount: Number(o.amount ?? 0),
    average: num(o.average), triggerPrice: num(o.triggerPrice), reduceOnly: typeof o.reduceOnly === 'boolean' ? o.reduceOnly : null,
    fillOrderId: String(o.id ?? ''), fee: num((o.fee as { cost?: unknown } | undefined)?.cost), raw: o.info ?? o,
  };
}

export interface FuturesOperationsOptions {
  /** Settings already applied (default: the process-wide cache). */
  settings?: FuturesSettingsCache;
  /** Whether hedge-mode accounts are traded (positionSide / positionIdx sent); false refuses them. Default true. */
  allowHedgeMode?: boolean;
  /** How long a detected position mode is trusted, ms (default 5 min): the user may switch it on the venue. */
  positionModeTtlMs?: number;
}

/** Futures operations of one API key on one venue. Every method throws ExchangeError. */
export class FuturesOperations {
  private readonly dialect: FuturesDialect;
  private readonly settings: FuturesSettingsCache;
  private readonly scope: string;
  private marketView?: FuturesMarket;

  /** @param ex a ccxt instance with this key's credentials, @param venue our venue id, @param apiKey only hashed, for the cache */
  constructor(private readonly ex: Exchange, venue: string, apiKey: string, private readonly opts: FuturesOperationsOptions = {}) {
    const dialect = futuresDialectFor(venue);
    if (!dialect) throw new ExchangeError('rejected', `no futures trading on ${venue}`, 'NotSupported');
    this.dialect = dialect;
    this.settings = opts.settings ?? sharedFuturesSettings;
    this.scope = `${venue}:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}:`;
  }

  /** Contract rules, mark price, free margin and leverage brackets through this key's instance (futures-market.ts). */
  get market(): FuturesMarket {
    return (this.marketView ??= new FuturesMarket(this.ex, this.dialect));
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const e = classifyCcxtError(err, this.dialect);
      if (this.dialect.modeMismatch(e.message)) this.settings.forgetModes(this.scope);
      throw e;
    }
  }

  /**
   * Makes the symbol's leverage and margin mode what is asked, idempotently: "already set" answers are success,
   * and what was applied is remembered, so later calls for the same key and symbol send nothing. On Bybit the
   * margin mode is one setting for the whole account (switching fails while anything is open there).
   */
  async ensureLeverageAndMargin(symbol: string, leverage: number, marginMode: FuturesMarginMode): Promise<{ requests: number }> {
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) throw new ExchangeError('rejected', `leverage ${leverage} is not an integer from 1 to 125`, 'BadRequest');
    let requests = 0;
    const marginKey = this.scope + (this.dialect.accountWideMarginMode ? '*' : symbol) + ':margin';
    if (!this.settings.has(marginKey, marginMode)) {
      await this.call(() => this.dialect.setMarginMode(this.ex, symbol, marginMode));
      this.settings.set(marginKey, marginMode);
      requests += 1;
    }
    const leverageKey = `${this.scope}${symbol}:leverage`;
    if (!this.settings.has(leverageKey, String(leverage))) {
      await this.call(() => this.dialect.setLeverage(this.ex, symbol, leverage));
      this.settings.set(leverageKey, String(leverage));
      requests += 1;
    }
    return { requests };
  }

  /** Forgets the remembered settings of this key (call after the venue refused an order on margin or mode grounds). */
  forgetSettings(): void {
    this.settings.forget(this.scope);
  }

  /** The account's position mode for the symbol (cached for positionModeTtlMs). */
  async positionMode(symbol: string): Promise<PositionMode> {
    const key = `${this.scope}${symbol}:mode`;
    const known = this.settings.mode(key, this.opts.positionModeTtlMs ?? 300_000);
    if (known) return known;
    const mode = await this.call(() => this.dialect.positionMode(this.ex, symbol));
    this.settings.setMode(key, mode);
    return mode;
  }

  /**
   * The ccxt params that put an order on the right position: {} in one-way mode; `hedged: true` in hedge mode
   * (ccxt then sends Binance positionSide LONG/SHORT without reduceOnly, Bybit positionIdx 1/2). Refuses a
   * hedge-mode account when allowHedgeMode is false.
   */
  async positionParams(symbol: string): Promise<Record<string, unknown>> {
    const mode = await this.positionMode(symbol);
    if (mode === 'oneWay') return {};
    if (this.opts.allowHedgeMode === false) {
      throw new ExchangeError('rejected', `the ${this.dialect.id} account is in hedge mode; switch it to one-way mode to trade ${symbol}`, 'HedgeModeRefused');
    }
    return { hedged: true };
  }

  /** A quantity or price must be a positive finite number before anything is sent. */
  private positive(what: string, v: number): number {
    if (!Number.isFinite(v) || v <= 0) throw new ExchangeError('rejected', `${what} ${v} is not a positive number`, 'BadRequest');
    return v;
  }

  private venueId(ourId: string): string {
    if (!CLIENT_ID.test(ourId)) throw new ExchangeError('rejected', `client id ${ourId} is not 1-36 of [A-Za-z0-9_-]`, 'BadRequest');
    return ourId;
  }

  /** Opens (or adds to) a position with a market order. */
  async openPosition(symbol: string, side: PositionSide, amount: number, clientOrderId: string): Promise<FuturesOrder> {
    this.positive('amount', amount);
    const params = { ...(await this.positionParams(symbol)), clientOrderId: this.venueId(clientOrderId) };
    const o = await this.call(() => this.ex.createOrder(symbol, 'market', side === 'long' ? 'buy' : 'sell', amount, undefined, params));
    return toOrder(o as unknown as CcxtOrder, clientOrderId);
  }

  /**
   * Closes up to `amount` of a position with a reduce-only market order; null when the venue says there is
   * nothing to reduce (the position is already closed, e.g. its stop fired first).
   */
  async closePosition(symbol: string, side: PositionSide, amount: number, clientOrderId: string): Promise<FuturesOrder | null> {
    this.positive('amount', amount);
    const params = { ...(await this.positionParams(symbol)), reduceOnly: true, clientOrderId: this.venueId(clientOrderId) };
    try {
      const o = await this.call(() => this.ex.createOrder(symbol, 'market', opposite(side), amount, undefined, params));
      return toOrder(o as unknown as CcxtOrder, clientOrderId);
    } catch (err) {
      if (err instanceof ExchangeError && this.dialect.nothingToReduce(err.message)) return null;
      throw err;
    }
  }

  /** Rests a reduce-only stop-loss or take-profit (conditional market order) under our client id. */
  async placeProtective(p: ProtectiveOrder): Promise<FuturesOrder> {
    this.positive('amount', p.amount);
    this.positive('triggerPrice', p.triggerPrice);
    const trigger = p.kind === 'stopLoss' ? { stopLossPrice: p.triggerPrice } : { takeProfitPrice: p.triggerPrice };
    const params = { ...(await this.positionParams(p.symbol)), ...trigger, reduceOnly: true, clientOrderId: this.venueId(p.clientOrderId) };
    const o = await this.call(() => this.ex.createOrder(p.symbol, 'market', opposite(p.positionSide), p.amount, undefined, params));
    return toOrder(o as unknown as CcxtOrder, p.clientOrderId);
  }

  /** A market order by our client id; null when the venue has none. */
  async findOrder(symbol: string, clientOrderId: string): Promise<FuturesOrder | null> {
    const o = await this.call(() => this.dialect.findOrder(this.ex, symbol, this.venueId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  /**
   * A protective order by our client id; null when the venue has none. When it fired, `filled`/`average`
   * are those of the market order it became (on Binance a separate order, looked up by its actualOrderId).
   */
  async findProtective(symbol: string, clientOrderId: string): Promise<FuturesOrder | null> {
    const o = await this.call(() => this.dialect.findConditional(this.ex, symbol, this.venueId(clientOrderId)));
    if (!o) return null;
    const order = toOrder(o, clientOrderId);
    if (order.status !== 'closed' || order.filled > 0) return order;
    const fill = await this.call(() => this.dialect.fillOfTriggered(this.ex, symbol, o));
    return fill ? { ...order, filled: Number(fill.filled ?? 0), average: num(fill.average), fillOrderId: String(fill.id ?? '') } : order;
  }

  /**
   * Realised PnL (settle currency, after the fees the venue books against it) of a closing order: a
   * reduce-only close or a fired protective order (pass what findOrder / findProtective returned). Null when
   * the venue has no record of it since `since` (ms).
   */
  async realisedPnl(symbol: string, order: FuturesOrder, since: number): Promise<number | null> {
    if (order.fillOrderId === '' || order.filled <= 0) return null;
    return this.call(() => this.dialect.realisedPnl(this.ex, symbol, order.fillOrderId, since));
  }

  /** Cancels a protective order by our client id; null when nothing is open to cancel. */
  async cancelProtective(symbol: string, clientOrderId: string): Promise<FuturesOrder | null> {
    const o = await this.call(() => this.dialect.cancelConditional(this.ex, symbol, this.venueId(clientOrderId)));
    return o ? toOrder(o, clientOrderId) : null;
  }

  /**
   * The account's liquidations of a symbol since `since` (ms), as the venue records them (Binance force orders,
   * Bybit BustTrade executions): how the reconciliation tells a liquidation from a stop or a manual close.
   */
  async liquidations(symbol: string, since: number): Promise<{ contracts: number; price: number | null; timestamp: number | null }[]> {
    const rows = await this.call(() => this.ex.fetchMyLiquidations(symbol, since));
    return rows.map((l) => ({ contracts: Number(l.contracts ?? 0), price: num(l.price), timestamp: num(l.timestamp) }));
  }

  /** Open positions (flat slots left out), of the given symbols or all. */
  async fetchPositions(symbols?: string[]): Promise<FuturesPosition[]> {
    const rows = await this.call(() => (symbols && symbols.length === 1 ? this.ex.fetchPositions(symbols) : this.ex.fetchPositions()));
    return rows
      .filter((p) => Number(p.contracts ?? 0) > 0 && (!symbols || symbols.includes(String(p.symbol))))
      .map((p) => ({
        symbol: String(p.symbol), side: p.side === 'short' ? 'short' : 'long', contracts: Number(p.contracts), entryPrice: num(p.entryPrice),
        markPrice: num(p.markPrice), unrealizedPnl: Number(p.unrealizedPnl ?? 0), liquidationPrice: num(p.liquidationPrice), hedged: p.hedged === true, raw: p.info,
      }));
  }
}
