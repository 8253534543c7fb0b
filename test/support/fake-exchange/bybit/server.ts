/**
 * FakeBybit: Bybit v5 spot front-end on the shared Engine, spoken to by the
 * real `ccxt.bybit`. Signing as Bybit does it: ./auth.ts. Every answer has the retCode
 * envelope with HTTP 200; "not found" on lookups is an empty list.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Account, OrderRecord, Params } from '../types.js';
import { isOpen } from '../engine.js';
import { FakeVenue, queryParams, type FakeVenueOptions, type Reply, type VenueRequest } from '../venue/base.js';
import { bybitHeader, bybitJsonBody, verifyBybitSignature } from './auth.js';
import { BybitErrors, fromEngineError } from './errors.js';
import { envelope, instrumentJson, orderJson, tickerJson, walletJson, type BybitOrderMeta } from './views.js';

/** Options of FakeBybit. */
export interface FakeBybitOptions extends FakeVenueOptions {
  /** Closed orders kept by /v5/order/realtime per account (Bybit: 500, open-order.mdx). */
  realtimeClosedLimit?: number;
  /**
   * Symbols ('BTCUSDT' or 'BTC/USDT') on which spot TP/SL and trigger orders
   * (orderFilter tpslOrder/StopOrder) are allowed; default all. Others get
   * 170130 "Data sent for paramter 'orderFilter' is not valid." (BadRequest).
   */
  tpslSymbols?: string[];
}

type Body = Record<string, unknown>;
const LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const DAY = 86_400_000;
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** A fake Bybit v5 (spot) REST API for tests; an orderLinkId can never be reused. */
export class FakeBybit extends FakeVenue {
  private readonly meta = new Map<number, BybitOrderMeta>();
  /** Orders closed at or before this id are no longer in /v5/order/realtime (a Bybit restart). */
  private realtimeWipedUpTo = 0;
  private readonly realtimeClosedLimit: number;
  private tpslSymbols: Set<string> | undefined;
  private readonly publicTable = this.publicRoutes();
  private readonly privateTable = this.privateRoutes();

  /** @param options markets, clock offset, commission, realtime retention */
  constructor(options: FakeBybitOptions = {}) {
    super('strict', options);
    this.realtimeClosedLimit = options.realtimeClosedLimit ?? 500;
    this.setTpslSymbols(options.tpslSymbols);
  }

  /** See FakeBybitOptions.tpslSymbols; undefined allows every symbol. */
  setTpslSymbols(symbols: string[] | undefined): void {
    this.tpslSymbols = symbols === undefined ? undefined : new Set(symbols.map((s) => s.replace('/', '').toUpperCase()));
  }

  /** Simulates a Bybit restart: closed orders vanish from /v5/order/realtime (open-order.mdx). */
  restartRealtime(): void {
    this.realtimeWipedUpTo = Math.max(0, ...[...this.engine.accounts.values()].flatMap((a) => a.orders.map((o) => o.orderId)));
  }

  /** Makes the next `times` requests of an API key (all when omitted) get the IP ban: HTTP 403 plain text. */
  banIp(times?: number): number {
    return this.injectFault({ kind: 'respond', status: 403, body: 'access too frequent', headers: { 'content-type': 'text/plain' } }, { times });
  }

  protected apiKeyOf(headers: IncomingMessage['headers']): string | undefined {
    return bybitHeader(headers, 'x-bapi-api-key');
  }

  protected rateLimitReply(retryAfterSec: number): Reply {
    const e = BybitErrors.tooMany();
    const reset = this.now() + retryAfterSec * 1000;
    return {
      status: 200,
      body: JSON.stringify(envelope({}, this.now(), e.retCode, e.retMsg)),
      headers: { 'x-bapi-limit': '20', 'x-bapi-limit-status': '0', 'x-bapi-limit-reset-timestamp': String(reset) },
    };
  }

  protected answer(req: VenueRequest): Reply | undefined {
    const key = `${req.method} ${req.path}`;
    const pub = this.publicTable[key];
    const priv = this.privateTable[key];
    if (pub === undefined && priv === undefined) return undefined;
    try {
      let result: unknown;
      if (pub !== undefined) {
        result = pub(queryParams(req.rawQuery));
      } else {
        const { account } = verifyBybitSignature(this.engine.accounts, req);
        const input = req.method === 'POST' ? bybitJsonBody(req.rawBody) : queryParams(req.rawQuery);
        result = priv!(account, input, req.now);
      }
      return { status: 200, body: JSON.stringify(envelope(result, req.now)) };
    } catch (error) {
      const e = fromEngineError(error);
      return { status: 200, body: JSON.stringify(envelope({}, req.now, e.retCode, e.retMsg)) };
    }
  }

  private publicRoutes(): Record<string, (p: Params) => unknown> {
    const e = this.engine;
    return {
      'GET /v5/market/time': () => {
        const now = this.now();
        return { timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` };
      },
      // loadMarkets asks spot, linear (twice, once status=PreLaunch), inverse and option (6 base coins): only spot is listed.
      'GET /v5/market/instruments-info': (p) => ({
        category: p.category ?? '',
        list: p.category === 'spot' ? [...e.markets.values()].map(instrumentJson) : [],
        nextPageCursor: '',
      }),
      'GET /v5/market/tickers': (p) => {
        if (p.category !== 'spot') return { category: p.category ?? '', list: [] };
        const markets = p.symbol !== undefined ? [e.market(p.symbol)] : [...e.markets.values()];
        return { category: 'spot', list: markets.map(tickerJson) };
      },
    };
  }

  private privateRoutes(): Record<string, (a: Account, p: Body, now: number) => unknown> {
    const e = this.engine;
    const coins = () => [...new Set([...e.markets.values()].flatMap((m) => [m.base, m.quote]))];
    return {
      'GET /v5/asset/coin/query-info': () => ({ rows: coins().map((coin) => ({ name: coin, coin, remainAmount: '1000000', chains: [] })) }),
      // ccxt isUnifiedEnabled() pre-calls (by:1491-1570): answer as a UTA 2.0 account.
      'GET /v5/user/query-api': (a) => ({
        id: '1', note: 'fake', apiKey: a.apiKey, readOnly: 0, secret: '', permissions: { Spot: ['SpotTrade'], Wallet: [], ContractTrade: [] },
        ips: ['*'], type: 1, deadlineDay: 90, expiredAt: '', createdAt: '', unified: 0, uta: 1, userID: 1, inviterID: 0, vipLevel: 'No VIP', mktMakerLevel: '0', affiliateID: 0, rsaPublicKey: '', isMaster: true,
      }),
      'GET /v5/account/info': () => ({
        unifiedMarginStatus: 6, marginMode: 'REGULAR_MARGIN', isMasterTrader: false, spotHedgingStatus: 'OFF', updatedTime: String(this.now()), dcpStatus: 'OFF', timeWindow: 0, smpGroup: 0,
      }),
      'GET /v5/account/wallet-balance': (a) => walletJson(a),
      'POST /v5/order/create': (a, p) => this.create(a, p),
      'POST /v5/order/cancel': (a, p) => {
        const order = this.findForCancel(a, p);
        e.cancelOrder(a, { symbol: order.symbol, orderId: String(order.orderId) });
        return { orderId: String(order.orderId), orderLinkId: order.clientOrderId };
      },
      'GET /v5/order/realtime': (a, p) => this.list(a, p, 'realtime'),
      'GET /v5/order/history': (a, p, now) => this.list(a, p, 'history', now),
    };
  }

  private create(a: Account, p: Body): unknown {
    if (str(p.category) !== 'spot') throw BybitErrors.params('category: the fake serves spot only');
    const symbol = str(p.symbol) ?? '';
    const side = str(p.side);
    if (side !== 'Buy' && side !== 'Sell') throw BybitErrors.params('side');
    const orderType = str(p.orderType);
    if (orderType !== 'Market' && orderType !== 'Limit') throw BybitErrors.params('orderType');
    const linkId = str(p.orderLinkId) ?? randomBytes(8).readBigUInt64BE().toString();
    if (!LINK_ID.test(linkId)) throw BybitErrors.params('orderLinkId');
    const orderFilter = str(p.orderFilter) ?? 'Order';
    const trigger = str(p.triggerPrice);
    const qty = str(p.qty) ?? '';
    const tif = str(p.timeInForce) ?? (orderType === 'Market' ? 'IOC' : 'GTC');
    const marketUnit = str(p.marketUnit) ?? (side === 'Buy' ? 'quoteCoin' : 'baseCoin');
    const params: Params = { symbol, side: side.toUpperCase(), newClientOrderId: linkId, newOrderRespType: 'RESULT' };
    const isTrigger = orderFilter === 'tpslOrder' || orderFilter === 'StopOrder';
    let triggerDirection = 0;
    if (isTrigger) {
      if (this.tpslSymbols !== undefined && !this.tpslSymbols.has(this.engine.market(symbol).id)) throw BybitErrors.invalidParam('orderFilter');
      if (trigger === undefined) throw BybitErrors.tpslPrice();
      const rising = Number(trigger) > lastPriceOf(this, symbol);
      triggerDirection = rising ? 1 : 2;
      // The engine's Binance rule: a sell STOP_LOSS fires on a fall, a sell TAKE_PROFIT on a rise (reverse for buys).
      const stop = side === 'Sell' ? !rising : rising;
      params.type = (stop ? 'STOP_LOSS' : 'TAKE_PROFIT') + (orderType === 'Limit' ? '_LIMIT' : '');
      params.stopPrice = trigger;
      params.quantity = qty; // the fake sizes trigger orders in base coin
      if (orderType === 'Limit') Object.assign(params, { price: str(p.price) ?? '', timeInForce: 'GTC' });
    } else if (orderType === 'Market') {
      params.type = 'MARKET';
      if (marketUnit === 'quoteCoin') params.quoteOrderQty = qty;
      else params.quantity = qty;
    } else {
      params.type = tif === 'PostOnly' ? 'LIMIT_MAKER' : 'LIMIT';
      if (tif !== 'PostOnly') params.timeInForce = tif;
      params.price = str(p.price) ?? '';
      params.quantity = qty;
    }
    const order = this.engine.placeOrder(a, params);
    this.meta.set(order.orderId, {
      orderType,
      orderFilter: isTrigger ? orderFilter : '',
      marketUnit: orderType === 'Market' && !isTrigger ? marketUnit : '',
      triggerDirection,
      timeInForce: tif,
    });
    return { orderId: String(order.orderId), orderLinkId: order.clientOrderId };
  }

  private findForCancel(a: Account, p: Body): OrderRecord {
    const id = str(p.orderId);
    const link = str(p.orderLinkId);
    const symbol = this.engine.market(str(p.symbol) ?? '').id;
    const order = a.orders.find(
      (o) => o.symbol === symbol && isOpen(o) && (id !== undefined ? String(o.orderId) === id : o.clientOrderId === link),
    );
    if (order === undefined) throw BybitErrors.notFound();
    return order;
  }

  private list(a: Account, p: Body, kind: 'realtime' | 'history', now = this.now()): unknown {
    const category = str(p.category) ?? '';
    if (category !== 'spot') return { category, list: [], nextPageCursor: '' };
    const symbol = str(p.symbol) !== undefined ? this.engine.market(str(p.symbol)!).id : undefined;
    const id = str(p.orderId);
    const link = str(p.orderLinkId);
    const filter = str(p.orderFilter);
    let rows = a.orders.filter(
      (o) =>
        (symbol === undefined || o.symbol === symbol) &&
        (id === undefined || String(o.orderId) === id) &&
        (link === undefined || o.clientOrderId === link) &&
        (filter === undefined || this.filterOf(o) === filter),
    );
    if (kind === 'realtime') {
      const closed = rows.filter((o) => !isOpen(o) && o.orderId > this.realtimeWipedUpTo).slice(-this.realtimeClosedLimit);
      rows = str(p.openOnly) === '1' || str(p.openOnly) === '2' ? rows.filter(isOpen) : [...rows.filter(isOpen), ...closed];
    } else {
      // history.mdx: closed orders of the last 7 days; cancelled/rejected without fills only for 24 h.
      rows = rows.filter((o) => !isOpen(o) && now - o.updateTime <= 7 * DAY && (o.executedQty > 0n || now - o.updateTime <= DAY));
    }
    const limit = Math.min(Math.max(Number(str(p.limit) ?? 20), 1), 50);
    rows = rows.sort((x, y) => y.orderId - x.orderId).slice(0, limit);
    return { category, list: rows.map((o) => orderJson(o, this.metaOf(o))), nextPageCursor: '' };
  }

  private filterOf(o: OrderRecord): string {
    return this.metaOf(o).orderFilter === '' ? 'Order' : this.metaOf(o).orderFilter;
  }

  private metaOf(o: OrderRecord): BybitOrderMeta {
    return this.meta.get(o.orderId) ?? { orderType: 'Limit', orderFilter: '', marketUnit: '', triggerDirection: 0, timeInForce: 'GTC' };
  }
}

/** Last price as a float: only used to tell which side of the market a trigger lies on. */
function lastPriceOf(fake: FakeBybit, symbol: string): number {
  return Number(fake.engine.market(symbol).price) / 1e18;
}
