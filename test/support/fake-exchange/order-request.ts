/**
 * Validation of POST /api/v3/order parameters, in Binance's order:
 * mandatory parameters, enums, numeric syntax, then the symbol filters.
 */
import { randomBytes } from 'node:crypto';
import { Errors } from './errors.js';
import { div, floorToStep, parseDecimal } from './decimal.js';
import { SPOT_ORDER_TYPES, checkLotSize, checkNotional, checkPriceFilter, type Market } from './markets.js';
import type { Params } from './types.js';

/** A validated new-order request. */
export interface OrderDraft {
  symbol: string;
  side: 'BUY' | 'SELL';
  type: string;
  timeInForce: string;
  clientOrderId: string;
  quantity: bigint;
  quoteOrderQty: bigint;
  price: bigint;
  stopPrice: bigint;
  respType: 'ACK' | 'RESULT' | 'FULL';
}

const CLIENT_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;
const TIFS = new Set(['GTC', 'IOC', 'FOK']);

/** Types that execute at market once working. */
export function isMarketLike(type: string): boolean {
  return type === 'MARKET' || type === 'STOP_LOSS' || type === 'TAKE_PROFIT';
}

/** Types that wait for a stopPrice trigger. */
export function isStopType(type: string): boolean {
  return type.startsWith('STOP_LOSS') || type.startsWith('TAKE_PROFIT');
}

function required(p: Params, name: string): string {
  const value = p[name];
  if (value === undefined || value === '') {
    throw Errors.mandatory(name);
  }
  return value;
}

function decimal(p: Params, name: string, mandatory: boolean): bigint {
  const raw = mandatory ? required(p, name) : p[name];
  if (raw === undefined || raw === '') {
    return 0n;
  }
  const parsed = parseDecimal(raw);
  if (parsed === undefined) {
    throw Errors.illegalNumber(name);
  }
  return parsed;
}

function needsPrice(type: string): boolean {
  return type === 'LIMIT' || type === 'LIMIT_MAKER' || type.endsWith('_LIMIT');
}

function needsTif(type: string): boolean {
  return type === 'LIMIT' || type.endsWith('_LIMIT');
}

function parseEnums(p: Params): Pick<OrderDraft, 'side' | 'type' | 'timeInForce'> {
  const side = required(p, 'side');
  if (side !== 'BUY' && side !== 'SELL') {
    throw Errors.invalidSide();
  }
  const type = required(p, 'type');
  if (!(SPOT_ORDER_TYPES as readonly string[]).includes(type)) {
    throw Errors.invalidOrderType();
  }
  const timeInForce = needsTif(type) ? required(p, 'timeInForce') : (p.timeInForce ?? '');
  if (timeInForce !== '' && !TIFS.has(timeInForce)) {
    throw Errors.invalidTif();
  }
  return { side, type, timeInForce };
}

function parseClientId(p: Params): string {
  const id = p.newClientOrderId ?? randomBytes(16).toString('base64url').slice(0, 22);
  if (!CLIENT_ID.test(id)) {
    throw Errors.illegalClientId();
  }
  return id;
}

function parseQuantities(p: Params, type: string): Pick<OrderDraft, 'quantity' | 'quoteOrderQty'> {
  if (type !== 'MARKET') {
    return { quantity: decimal(p, 'quantity', true), quoteOrderQty: 0n };
  }
  const hasQty = p.quantity !== undefined && p.quantity !== '';
  const hasQuote = p.quoteOrderQty !== undefined && p.quoteOrderQty !== '';
  if (hasQty && hasQuote) {
    throw Errors.notRequired('quoteOrderQty');
  }
  if (!hasQty && !hasQuote) {
    throw Errors.mandatory('quantity');
  }
  return { quantity: decimal(p, 'quantity', false), quoteOrderQty: decimal(p, 'quoteOrderQty', false) };
}

/** The requested response detail; Binance's spot default for all types is FULL here. */
export function respTypeOf(p: Params): OrderDraft['respType'] {
  return p.newOrderRespType === 'ACK' || p.newOrderRespType === 'RESULT' ? p.newOrderRespType : 'FULL';
}

/** Parses and syntax-checks a new-order request (no market rules yet). */
export function parseOrderRequest(p: Params): OrderDraft {
  const symbol = required(p, 'symbol');
  const enums = parseEnums(p);
  const respType = respTypeOf(p);
  return {
    symbol,
    ...enums,
    clientOrderId: parseClientId(p),
    ...parseQuantities(p, enums.type),
    price: decimal(p, 'price', needsPrice(enums.type)),
    stopPrice: decimal(p, 'stopPrice', isStopType(enums.type)),
    respType,
  };
}

/**
 * Applies the symbol's filters (PRICE_FILTER, LOT_SIZE, NOTIONAL) and resolves
 * a quoteOrderQty market order into a base quantity. Returns the final draft.
 */
export function applyFilters(m: Market, d: OrderDraft): OrderDraft {
  if (d.price > 0n) {
    checkPriceFilter(m, d.price);
  }
  if (d.stopPrice > 0n) {
    checkPriceFilter(m, d.stopPrice);
  }
  if (d.quoteOrderQty > 0n) {
    if (!m.quoteOrderQtyMarketAllowed) {
      throw Errors.quoteQtyNotAllowed();
    }
    // Binance fills at most quoteOrderQty worth, on the LOT_SIZE step: never more than asked.
    const quantity = floorToStep(div(d.quoteOrderQty, m.price), m.stepSize);
    checkLotSize(m, quantity);
    checkNotional(m, quantity, m.price);
    return { ...d, quantity };
  }
  checkLotSize(m, d.quantity);
  const reference = isMarketLike(d.type) ? (d.stopPrice > 0n ? d.stopPrice : m.price) : d.price;
  checkNotional(m, d.quantity, reference);
  return d;
}
