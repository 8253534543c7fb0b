/**
 * Position arithmetic of the futures engine (linear USDT contracts):
 * unrealised PnL = (mark − entry) × signed qty; a fill that adds to a
 * position moves the entry to the quantity-weighted average, a fill that
 * reduces it realises (exit − entry) × closed qty; maintenance margin =
 * |qty| × mark × maintenance rate; initial margin = |qty| × entry / leverage.
 */
import { ONE, div, mul } from '../decimal.js';
import type { FuturesAccount, FuturesMarket, MarginMode, Position, PositionSide } from './types.js';

export const abs = (v: bigint): bigint => (v < 0n ? -v : v);

/** Map key of a position. */
export const positionKey = (symbol: string, side: PositionSide): string => `${symbol}:${side}`;

/** The position (created flat when absent). */
export function positionOf(a: FuturesAccount, symbol: string, side: PositionSide): Position {
  const key = positionKey(symbol, side);
  let p = a.positions.get(key);
  if (p === undefined) {
    p = { symbol, positionSide: side, qty: 0n, entry: 0n, isolatedMargin: 0n, realizedPnl: 0n, updateTime: 0 };
    a.positions.set(key, p);
  }
  return p;
}

export const leverageOf = (a: FuturesAccount, symbol: string): number => a.leverage.get(symbol) ?? 20;
export const marginModeOf = (a: FuturesAccount, symbol: string): MarginMode => a.marginMode.get(symbol) ?? 'CROSSED';

export function unrealized(p: Position, mark: bigint): bigint {
  return mul(mark - p.entry, p.qty);
}

export function maintenance(p: Position, m: FuturesMarket): bigint {
  return mul(mul(abs(p.qty), m.mark), m.mmr);
}

export function initialMargin(p: Position, leverage: number): bigint {
  return mul(abs(p.qty), p.entry) / BigInt(leverage);
}

/**
 * Liquidation price estimate (what the venues show): the mark at which margin
 * balance equals maintenance. Isolated: collateral = isolated margin; cross:
 * collateral = the cross wallet (other positions ignored). 0 when none.
 */
export function liquidationPrice(p: Position, m: FuturesMarket, collateral: bigint): bigint {
  if (p.qty === 0n) return 0n;
  // (L − entry)·q + C = |q|·L·mmr  →  L = (entry·q − C) / (q − |q|·mmr)
  const denominator = p.qty - mul(abs(p.qty), m.mmr);
  if (denominator === 0n) return 0n;
  const price = div(mul(p.entry, p.qty) - collateral, denominator);
  return price > 0n ? price : 0n;
}

/** Result of applying one fill to a position. */
export interface FillEffect {
  realized: bigint;
  closedQty: bigint;
  /** Isolated margin released back to the wallet (closing) — negative when margin was added (opening). */
  marginReleased: bigint;
}

/**
 * Applies a fill of `signedQty` (buy > 0) at `price`. Opening parts add
 * isolated margin (entry notional / leverage) when the position is isolated.
 */
export function applyFill(p: Position, signedQty: bigint, price: bigint, isolated: boolean, leverage: number, now: number): FillEffect {
  const effect: FillEffect = { realized: 0n, closedQty: 0n, marginReleased: 0n };
  let rest = signedQty;
  if (p.qty !== 0n && p.qty > 0n !== rest > 0n) {
    const closing = abs(rest) < abs(p.qty) ? abs(rest) : abs(p.qty);
    const direction = p.qty > 0n ? 1n : -1n;
    effect.realized = mul(price - p.entry, closing * direction);
    effect.closedQty = closing;
    if (isolated) {
      const released = (p.isolatedMargin * closing) / abs(p.qty);
      p.isolatedMargin -= released;
      effect.marginReleased += released;
    }
    p.qty -= closing * direction;
    rest += closing * direction;
    if (p.qty === 0n) {
      p.entry = 0n;
      effect.marginReleased += p.isolatedMargin;
      p.isolatedMargin = 0n;
    }
  }
  if (rest !== 0n) {
    const newQty = p.qty + rest;
    p.entry = p.qty === 0n ? price : div(mul(p.entry, abs(p.qty)) + mul(price, abs(rest)), abs(newQty));
    p.qty = newQty;
    if (isolated) {
      const added = mul(abs(rest), price) / BigInt(leverage);
      p.isolatedMargin += added;
      effect.marginReleased -= added;
    }
  }
  p.realizedPnl += effect.realized;
  p.updateTime = now;
  return effect;
}

/** Cross equity and maintenance of an account: wallet + Σ uPnL and Σ maintenance over cross positions. */
export function crossState(a: FuturesAccount, market: (s: string) => FuturesMarket): { equity: bigint; maint: bigint; used: bigint } {
  let equity = a.wallet;
  let maint = 0n;
  let used = 0n;
  for (const p of a.positions.values()) {
    if (p.qty === 0n || p.isolatedMargin > 0n || marginModeOf(a, p.symbol) === 'ISOLATED') continue;
    const m = market(p.symbol);
    equity += unrealized(p, m.mark);
    maint += maintenance(p, m);
    used += initialMargin(p, leverageOf(a, p.symbol));
  }
  return { equity, maint, used };
}

/** 1 in internal units (re-exported for callers building rates). */
export const UNIT = ONE;
