/**
 * Venue-neutral engine of USDT-margined perpetuals for the futures fakes:
 * per-account wallet, leverage and margin mode per symbol, one-way or hedge
 * (dual-side) position mode, MARKET orders filled at the mark price with a
 * taker fee, reduce-only enforcement, conditional orders that fire when the
 * mark crosses their trigger, and liquidation when margin balance falls to
 * maintenance. Venue rules (codes, id formats, "already set" answers) live in
 * the front-ends (../binance-futures, ../bybit-linear).
 */
import { mul, toUnits } from '../decimal.js';
import { liquidateIfDue } from './liquidation.js';
import { abs, applyFill, crossState, initialMargin, leverageOf, maintenance, marginModeOf, positionOf, unrealized } from './positions.js';
import {
  FuturesReject,
  type ConditionalOrder,
  type FuturesAccount,
  type FuturesMarket,
  type FuturesMarketSpec,
  type FuturesOrder,
  type MarginMode,
  type Position,
  type PositionSide,
  type Side,
  type TriggerDirection,
} from './types.js';

/** A MARKET order request in engine terms. */
export interface MarketRequest {
  symbol: string;
  side: Side;
  qty: bigint;
  positionSide: PositionSide;
  reduceOnly: boolean;
  closePosition?: boolean;
  clientId: string;
}

/** A conditional order request in engine terms. */
export interface ConditionalRequest extends MarketRequest {
  type: string;
  triggerPrice: bigint;
  direction: TriggerDirection;
  tpsl?: 'TP' | 'SL';
}

/** 'open': a client id is refused only while an order with it is open (Binance); 'always': never reusable (Bybit). */
export type ClientIdRule = 'open' | 'always';

export class FuturesEngine {
  readonly markets = new Map<string, FuturesMarket>();
  readonly accounts = new Map<string, FuturesAccount>();
  takerRate: bigint;
  private nextId = 1;

  /** @param now exchange clock, @param clientIdRule duplicate rule, @param takerRate fee rate as decimal */
  constructor(
    private readonly now: () => number,
    readonly clientIdRule: ClientIdRule,
    takerRate: string,
  ) {
    this.takerRate = toUnits(takerRate);
  }

  addMarket(spec: FuturesMarketSpec): FuturesMarket {
    const m: FuturesMarket = {
      id: `${spec.base}${spec.quote}`.toUpperCase(),
      base: spec.base.toUpperCase(),
      quote: spec.quote.toUpperCase(),
      tickSize: toUnits(spec.tickSize),
      stepSize: toUnits(spec.stepSize),
      minQty: toUnits(spec.minQty),
      maxQty: toUnits(spec.maxQty ?? 1000),
      minNotional: toUnits(spec.minNotional),
      maxLeverage: spec.maxLeverage ?? 125,
      mmr: toUnits(spec.maintMarginRate ?? '0.004'),
      mark: toUnits(spec.markPrice),
    };
    this.markets.set(m.id, m);
    return m;
  }

  /** Market by id ('BTCUSDT') or unified-ish symbol ('BTC/USDT', 'BTC/USDT:USDT'). */
  market(symbol: string): FuturesMarket {
    const id = symbol.split(':')[0]!.replace('/', '').toUpperCase();
    const m = this.markets.get(id);
    if (m === undefined) throw new FuturesReject('UNKNOWN_SYMBOL', symbol);
    return m;
  }

  addAccount(apiKey: string, wallet: bigint): FuturesAccount {
    const a: FuturesAccount = {
      apiKey, wallet, dualSide: false, leverage: new Map(), marginMode: new Map(), positions: new Map(),
      orders: [], conditionals: [], trades: [], income: [], usedClientIds: new Set(),
    };
    this.accounts.set(apiKey, a);
    return a;
  }

  account(apiKey: string): FuturesAccount {
    const a = this.accounts.get(apiKey);
    if (a === undefined) throw new Error(`no futures account for ${apiKey}`);
    return a;
  }

  // ---- settings --------------------------------------------------------------

  /** Sets leverage; returns whether it changed. */
  setLeverage(a: FuturesAccount, symbol: string, leverage: number): boolean {
    const m = this.market(symbol);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > m.maxLeverage) throw new FuturesReject('BAD_LEVERAGE', String(leverage));
    const changed = leverageOf(a, m.id) !== leverage;
    a.leverage.set(m.id, leverage);
    return changed;
  }

  /** Sets the margin mode of a symbol; refused with an open position or open orders there. Returns whether it changed. */
  setMarginMode(a: FuturesAccount, symbol: string, mode: MarginMode): boolean {
    const m = this.market(symbol);
    if (marginModeOf(a, m.id) === mode) return false;
    if (this.openConditionals(a, m.id).length > 0) throw new FuturesReject('HAS_OPEN_ORDERS');
    if ([...a.positions.values()].some((p) => p.symbol === m.id && p.qty !== 0n)) throw new FuturesReject('HAS_POSITION');
    a.marginMode.set(m.id, mode);
    return true;
  }

  /** Switches one-way / hedge mode; refused with any open position or order. Returns whether it changed. */
  setDualSide(a: FuturesAccount, dual: boolean): boolean {
    if (a.dualSide === dual) return false;
    if (this.openConditionals(a).length > 0) throw new FuturesReject('HAS_OPEN_ORDERS');
    if ([...a.positions.values()].some((p) => p.qty !== 0n)) throw new FuturesReject('HAS_POSITION');
    a.dualSide = dual;
    return true;
  }

  openConditionals(a: FuturesAccount, symbol?: string): ConditionalOrder[] {
    return a.conditionals.filter((c) => c.status === 'NEW' && (symbol === undefined || c.symbol === symbol));
  }

  // ---- orders ------------------------------------------------------------------

  private checkClientId(a: FuturesAccount, clientId: string): void {
    const taken = this.clientIdRule === 'always'
      ? a.usedClientIds.has(clientId)
      : this.openConditionals(a).some((c) => c.clientId === clientId) || a.orders.some((o) => o.status === 'NEW' && o.clientId === clientId);
    if (taken) throw new FuturesReject('DUPLICATE_ID', clientId);
  }

  private checkPositionSide(a: FuturesAccount, positionSide: PositionSide): void {
    if (a.dualSide ? positionSide === 'BOTH' : positionSide !== 'BOTH') throw new FuturesReject('POSITION_SIDE', positionSide);
  }

  private checkQty(m: FuturesMarket, qty: bigint): void {
    if (qty <= 0n || qty % m.stepSize !== 0n) throw new FuturesReject('QTY_STEP', String(qty));
    if (qty < m.minQty || qty > m.maxQty) throw new FuturesReject('QTY_RANGE', String(qty));
  }

  /**
   * The quantity a reduce-only (or hedge-mode closing) order may execute: the
   * position it reduces, capped at its size; REDUCE_ONLY when it would open or increase.
   */
  private reducible(a: FuturesAccount, req: MarketRequest): bigint {
    const p = positionOf(a, this.market(req.symbol).id, req.positionSide);
    const buy = req.side === 'BUY';
    const opposite = req.positionSide === 'BOTH' ? (buy ? p.qty < 0n : p.qty > 0n) : (req.positionSide === 'LONG') !== buy;
    if (!opposite || p.qty === 0n) throw new FuturesReject('REDUCE_ONLY');
    return req.closePosition === true || req.qty > abs(p.qty) ? abs(p.qty) : req.qty;
  }

  /** Whether this order only reduces: reduce-only / closePosition, or in hedge mode sells LONG / buys SHORT. */
  private isClosing(req: MarketRequest): boolean {
    if (req.reduceOnly || req.closePosition === true) return true;
    return req.positionSide !== 'BOTH' && (req.positionSide === 'LONG') !== (req.side === 'BUY');
  }

  /** Places and executes a MARKET order at the mark price. */
  placeMarket(a: FuturesAccount, req: MarketRequest, type = 'MARKET'): FuturesOrder {
    const m = this.market(req.symbol);
    this.checkPositionSide(a, req.positionSide);
    if (req.closePosition !== true) this.checkQty(m, req.qty);
    this.checkClientId(a, req.clientId);
    const closing = this.isClosing(req);
    const qty = closing ? this.reducible(a, req) : req.qty;
    if (!closing) this.checkOpening(a, m, req, qty);
    const order = this.newOrder(req, m.id, type, qty);
    this.execute(a, m, order, qty);
    return order;
  }

  private checkOpening(a: FuturesAccount, m: FuturesMarket, req: MarketRequest, qty: bigint): void {
    const notional = mul(qty, m.mark);
    if (notional < m.minNotional) throw new FuturesReject('MIN_NOTIONAL', String(m.minNotional));
    // One-way: the part that closes an opposite position needs no margin.
    const p = positionOf(a, m.id, req.positionSide);
    const against = req.positionSide === 'BOTH' && p.qty !== 0n && (p.qty > 0n) !== (req.side === 'BUY');
    const opening = against ? (qty > abs(p.qty) ? qty - abs(p.qty) : 0n) : qty;
    const need = mul(opening, m.mark) / BigInt(leverageOf(a, m.id)) + mul(mul(qty, m.mark), this.takerRate);
    if (need > this.available(a)) throw new FuturesReject('INSUFFICIENT_MARGIN');
  }

  /** Cross equity minus the initial margin of cross positions (isolated margin already left the wallet). */
  available(a: FuturesAccount): bigint {
    const cross = crossState(a, (s) => this.market(s));
    const free = cross.equity - cross.used;
    return free > 0n ? free : 0n;
  }

  private newOrder(req: MarketRequest, symbol: string, type: string, qty: bigint): FuturesOrder {
    const now = this.now();
    return {
      orderId: this.nextId++, clientId: req.clientId, symbol, side: req.side, positionSide: req.positionSide, type,
      origQty: req.closePosition === true ? qty : req.qty, executedQty: 0n, avgPrice: 0n, cumQuote: 0n, status: 'NEW',
      reduceOnly: req.reduceOnly, closePosition: req.closePosition === true, time: now, updateTime: now,
    };
  }

  private execute(a: FuturesAccount, m: FuturesMarket, order: FuturesOrder, qty: bigint): void {
    const now = this.now();
    const p = positionOf(a, m.id, order.positionSide);
    const isolated = marginModeOf(a, m.id) === 'ISOLATED';
    const effect = applyFill(p, order.side === 'BUY' ? qty : -qty, m.mark, isolated, leverageOf(a, m.id), now);
    const quote = mul(qty, m.mark);
    const fee = mul(quote, this.takerRate);
    a.wallet += effect.realized + effect.marginReleased - fee;
    Object.assign(order, { executedQty: qty, avgPrice: m.mark, cumQuote: quote, status: 'FILLED', updateTime: now });
    a.orders.push(order);
    a.usedClientIds.add(order.clientId);
    const tradeId = this.nextId++;
    a.trades.push({ id: tradeId, orderId: order.orderId, symbol: m.id, side: order.side, positionSide: order.positionSide, price: m.mark, qty, quoteQty: quote, commission: fee, realizedPnl: effect.realized, time: now });
    if (effect.closedQty > 0n) a.income.push({ tranId: this.nextId++, symbol: m.id, incomeType: 'REALIZED_PNL', income: effect.realized, time: now, tradeId });
    if (fee > 0n) a.income.push({ tranId: this.nextId++, symbol: m.id, incomeType: 'COMMISSION', income: -fee, time: now, tradeId });
  }

  /** Rests a conditional order; WOULD_TRIGGER when the mark already is past its trigger. */
  placeConditional(a: FuturesAccount, req: ConditionalRequest): ConditionalOrder {
    const m = this.market(req.symbol);
    this.checkPositionSide(a, req.positionSide);
    if (req.closePosition !== true) this.checkQty(m, req.qty);
    if (req.triggerPrice <= 0n || req.triggerPrice % m.tickSize !== 0n) throw new FuturesReject('WOULD_TRIGGER', 'trigger price off the tick');
    if (crossed(req.direction, m.mark, req.triggerPrice)) throw new FuturesReject('WOULD_TRIGGER');
    if (req.clientId !== '') this.checkClientId(a, req.clientId);
    const now = this.now();
    const c: ConditionalOrder = {
      algoId: this.nextId++, clientId: req.clientId, symbol: m.id, side: req.side, positionSide: req.positionSide, type: req.type,
      triggerPrice: req.triggerPrice, direction: req.direction, qty: req.closePosition === true ? 0n : req.qty, reduceOnly: req.reduceOnly,
      closePosition: req.closePosition === true, tpsl: req.tpsl, status: 'NEW', actualOrderId: 0, createTime: now, updateTime: now, triggerTime: 0,
    };
    a.conditionals.push(c);
    if (c.clientId !== '') a.usedClientIds.add(c.clientId);
    return c;
  }

  cancelConditional(a: FuturesAccount, symbol: string, find: (c: ConditionalOrder) => boolean): ConditionalOrder {
    const c = this.openConditionals(a, this.market(symbol).id).find(find);
    if (c === undefined) throw new FuturesReject('NOT_FOUND');
    c.status = 'CANCELED';
    c.updateTime = this.now();
    return c;
  }

  // ---- the mark price ------------------------------------------------------------

  /** Moves the mark (and last) price: fires crossed conditionals in creation order, then liquidates. */
  setMark(symbol: string, price: number | string | bigint): void {
    const m = this.market(symbol);
    m.mark = toUnits(price);
    for (const a of this.accounts.values()) {
      for (const c of this.openConditionals(a, m.id)) {
        if (crossed(c.direction, m.mark, c.triggerPrice)) this.fire(a, c);
      }
      liquidateIfDue(this, a);
    }
  }

  private fire(a: FuturesAccount, c: ConditionalOrder): void {
    const now = this.now();
    Object.assign(c, { status: 'TRIGGERED', triggerTime: now, updateTime: now });
    const req: MarketRequest = { symbol: c.symbol, side: c.side, qty: c.qty, positionSide: c.positionSide, reduceOnly: c.reduceOnly, closePosition: c.closePosition, clientId: `trig-${c.algoId}` };
    try {
      const order = this.placeMarket(a, req);
      Object.assign(c, { status: 'FINISHED', actualOrderId: order.orderId });
    } catch (error) {
      // Nothing left to reduce (the position closed), or no margin: the triggered order is not executed.
      if (!(error instanceof FuturesReject)) throw error;
      c.status = 'EXPIRED';
    }
    // A closed position takes its position-level TP/SL with it.
    if (c.tpsl !== undefined) for (const o of this.openConditionals(a, c.symbol)) if (o.tpsl !== undefined && o.positionSide === c.positionSide) o.status = 'CANCELED';
  }

  /**
   * Closes a whole position at the mark with an 'autoclose-' order (Binance's prefix for liquidation
   * orders), after expiring the symbol's open conditional orders. Returns the wallet change it caused.
   */
  forceClose(a: FuturesAccount, p: Position): bigint {
    const m = this.market(p.symbol);
    for (const c of this.openConditionals(a, p.symbol)) Object.assign(c, { status: 'EXPIRED', updateTime: this.now() });
    const req: MarketRequest = { symbol: p.symbol, side: p.qty > 0n ? 'SELL' : 'BUY', qty: abs(p.qty), positionSide: p.positionSide, reduceOnly: true, clientId: `autoclose-${this.now()}${this.nextId}` };
    const before = a.wallet;
    this.execute(a, m, this.newOrder(req, m.id, 'LIQUIDATION', abs(p.qty)), abs(p.qty));
    return a.wallet - before;
  }

  /** Takes `amount` from the wallet for the insurance fund (what is left of a liquidated margin). */
  clearToInsurance(a: FuturesAccount, symbol: string, amount: bigint): void {
    if (amount <= 0n) return;
    a.wallet -= amount;
    a.income.push({ tranId: this.nextId++, symbol, incomeType: 'INSURANCE_CLEAR', income: -amount, time: this.now(), tradeId: 0 });
  }

  /** Numbers of a position for the views. */
  positionNumbers(a: FuturesAccount, symbol: string, side: PositionSide): { unrealized: bigint; notional: bigint; maint: bigint; initial: bigint; leverage: number } {
    const m = this.market(symbol);
    const p = positionOf(a, m.id, side);
    const leverage = leverageOf(a, m.id);
    return { unrealized: unrealized(p, m.mark), notional: mul(p.qty, m.mark), maint: maintenance(p, m), initial: initialMargin(p, leverage), leverage };
  }
}

function crossed(direction: TriggerDirection, mark: bigint, trigger: bigint): boolean {
  return direction === 'up' ? mark >= trigger : mark <= trigger;
}
