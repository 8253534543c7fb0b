/**
 * Spot market definitions for the fake exchange and the Binance filters
 * (PRICE_FILTER, LOT_SIZE, NOTIONAL) they imply.
 */
import { BinanceError, Errors } from './errors.js';
import { formatUnits, mul, toUnits } from './decimal.js';

/** A spot market as a test configures it (decimals as strings or numbers). */
export interface MarketSpec {
  /** Base asset, e.g. 'BTC'. */
  base: string;
  /** Quote asset, e.g. 'USDT'. */
  quote: string;
  /** Initial last price. */
  price: number | string;
  tickSize: number | string;
  stepSize: number | string;
  minQty: number | string;
  maxQty?: number | string;
  minPrice?: number | string;
  maxPrice?: number | string;
  minNotional: number | string;
  /** Binance `status`; anything but TRADING rejects orders with "Market is closed.". */
  status?: string;
  /**
   * exchangeInfo `quoteOrderQtyMarketAllowed` (default true). When false, a MARKET order with
   * `quoteOrderQty` is refused, as Binance does for such symbols (errors.md, -2010 messages).
   */
  quoteOrderQtyMarketAllowed?: boolean;
  /**
   * exchangeInfo `orderTypes` (default all seven). Real BTCUSDT lists only LIMIT, LIMIT_MAKER, MARKET,
   * STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT (BTCUSDT_ORDER_TYPES); an unlisted type is refused with -2010.
   */
  orderTypes?: readonly string[];
  /** exchangeInfo `ocoAllowed` (default true). */
  ocoAllowed?: boolean;
}

/** A market in internal units. */
export interface Market {
  id: string;
  base: string;
  quote: string;
  status: string;
  tickSize: bigint;
  stepSize: bigint;
  minQty: bigint;
  maxQty: bigint;
  minPrice: bigint;
  maxPrice: bigint;
  minNotional: bigint;
  quoteOrderQtyMarketAllowed: boolean;
  orderTypes: readonly string[];
  ocoAllowed: boolean;
  price: bigint;
  /** 24h statistics: open is the initial price, high/low follow setPrice. */
  open24h: bigint;
  high24h: bigint;
  low24h: bigint;
}

/** Order types every fake spot market accepts (Binance's usual list). */
export const SPOT_ORDER_TYPES = [
  'LIMIT',
  'LIMIT_MAKER',
  'MARKET',
  'STOP_LOSS',
  'STOP_LOSS_LIMIT',
  'TAKE_PROFIT',
  'TAKE_PROFIT_LIMIT',
] as const;

/** What Binance's real BTCUSDT (and most spot symbols) list: no market stops. */
export const BTCUSDT_ORDER_TYPES = ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'] as const;

/** Binance's -2010 message for a type the symbol does not list (errors.md, messages of -2010 NEW_ORDER_REJECTED). */
const UNSUPPORTED: Record<string, string> = {
  MARKET: 'Market orders are not supported for this symbol.',
  STOP_LOSS: 'Stop loss orders are not supported for this symbol.',
  STOP_LOSS_LIMIT: 'Stop loss limit orders are not supported for this symbol.',
  TAKE_PROFIT: 'Take profit orders are not supported for this symbol.',
  TAKE_PROFIT_LIMIT: 'Take profit limit orders are not supported for this symbol.',
};

/** Throws Binance's -2010 when the symbol's `orderTypes` does not list `type`. */
export function checkOrderTypeListed(m: Market, type: string): void {
  if (m.orderTypes.includes(type)) return;
  throw new BinanceError(400, -2010, UNSUPPORTED[type] ?? 'Unsupported order combination');
}

/** Markets served unless the test replaces or extends them. */
export const DEFAULT_MARKETS: readonly MarketSpec[] = [
  { base: 'BTC', quote: 'USDT', price: '60000', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', maxQty: '9000', minNotional: '5' },
  { base: 'ETH', quote: 'USDT', price: '3000', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' },
  { base: 'SOL', quote: 'USDT', price: '150', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', maxQty: '90000', minNotional: '5' },
  { base: 'ETH', quote: 'BTC', price: '0.05', tickSize: '0.00001', stepSize: '0.0001', minQty: '0.0001', maxQty: '100000', minNotional: '0.0001' },
];

/** Binance id of a symbol given as 'BTC/USDT' or 'BTCUSDT'. */
export function marketIdOf(symbol: string): string {
  return symbol.replace('/', '').toUpperCase();
}

/** Converts a spec to internal units. */
export function buildMarket(spec: MarketSpec): Market {
  const price = toUnits(spec.price);
  return {
    id: marketIdOf(spec.base + spec.quote),
    base: spec.base.toUpperCase(),
    quote: spec.quote.toUpperCase(),
    status: spec.status ?? 'TRADING',
    tickSize: toUnits(spec.tickSize),
    stepSize: toUnits(spec.stepSize),
    minQty: toUnits(spec.minQty),
    maxQty: toUnits(spec.maxQty ?? '9000000'),
    minPrice: toUnits(spec.minPrice ?? spec.tickSize),
    maxPrice: toUnits(spec.maxPrice ?? '1000000'),
    minNotional: toUnits(spec.minNotional),
    quoteOrderQtyMarketAllowed: spec.quoteOrderQtyMarketAllowed ?? true,
    orderTypes: [...(spec.orderTypes ?? SPOT_ORDER_TYPES)],
    ocoAllowed: spec.ocoAllowed ?? true,
    price,
    open24h: price,
    high24h: price,
    low24h: price,
  };
}

/** The `symbols[]` entry of /api/v3/exchangeInfo for one market. */
export function exchangeInfoSymbol(m: Market): Record<string, unknown> {
  return {
    symbol: m.id,
    status: m.status,
    baseAsset: m.base,
    baseAssetPrecision: 8,
    quoteAsset: m.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: [...m.orderTypes],
    icebergAllowed: true,
    ocoAllowed: m.ocoAllowed,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: m.quoteOrderQtyMarketAllowed,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: filtersOf(m),
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

function filtersOf(m: Market): Record<string, unknown>[] {
  return [
    { filterType: 'PRICE_FILTER', minPrice: formatUnits(m.minPrice), maxPrice: formatUnits(m.maxPrice), tickSize: formatUnits(m.tickSize) },
    { filterType: 'LOT_SIZE', minQty: formatUnits(m.minQty), maxQty: formatUnits(m.maxQty), stepSize: formatUnits(m.stepSize) },
    {
      filterType: 'NOTIONAL',
      minNotional: formatUnits(m.minNotional),
      applyMinToMarket: true,
      maxNotional: '9000000.00000000',
      applyMaxToMarket: false,
      avgPriceMins: 5,
    },
    { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
  ];
}

/** Throws -1013 "Filter failure: PRICE_FILTER" unless price is in range and on the tick. */
export function checkPriceFilter(m: Market, price: bigint): void {
  if (price < m.minPrice || price > m.maxPrice || price % m.tickSize !== 0n) {
    throw Errors.filter('PRICE_FILTER');
  }
}

/** Throws -1013 "Filter failure: LOT_SIZE" unless qty is in range and a multiple of stepSize. */
export function checkLotSize(m: Market, qty: bigint): void {
  if (qty < m.minQty || qty > m.maxQty || qty % m.stepSize !== 0n) {
    throw Errors.filter('LOT_SIZE');
  }
}

/** Throws -1013 "Filter failure: NOTIONAL" when qty × price is below minNotional. */
export function checkNotional(m: Market, qty: bigint, price: bigint): void {
  if (mul(qty, price) < m.minNotional) {
    throw Errors.filter('NOTIONAL');
  }
}
