/**
 * Private linear endpoints of FakeBybitLinear. Rules (v5 docs create-order.mdx, position/*.mdx,
 * account/set-margin-mode.mdx):
 * - /v5/order/create category=linear, Market only in this fake; `orderLinkId` ≤ 36 of [A-Za-z0-9_-] and
 *   unique for ever (110072), also after the order filled; `triggerPrice` makes a conditional order, which
 *   needs `triggerDirection` 1 (fires on a rise) / 2 (on a fall) and refuses a trigger already passed
 *   (110092/110093); `reduceOnly` that would open or increase → 110017.
 * - positionIdx 0 in one-way mode, 1 (long) / 2 (short) in hedge mode, else 10001.
 * - set-leverage: buy = sell (one-way), unchanged → 110043. switch-mode (mode 0|3): unchanged → 110025,
 *   refused with a position (110024) or open orders (110028); applies to every USDT contract.
 * - set-margin-mode is account-wide on a unified account (ISOLATED_MARGIN | REGULAR_MARGIN): unchanged → 110026.
 * - trading-stop: position-level TP/SL (tpslMode Full) closing the whole position, no orderLinkId; "0" removes one.
 */
import { parseDecimal } from '../decimal.js';
import type { FuturesEngine } from '../futures/engine.js';
import { positionOf } from '../futures/positions.js';
import { FuturesReject, type ConditionalOrder, type FuturesAccount, type MarginMode, type PositionSide, type Side } from '../futures/types.js';
import { BybitErrors, fromReject, LinearErrors } from './errors.js';
import { closedPnlJson, conditionalJson, executionJson, orderIdOf, orderJson, plain, positionJson, signed } from './views.js';

export type Body = Record<string, unknown>;
export type Handler = (a: FuturesAccount, p: Body) => unknown;
const LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const bool = (v: unknown): boolean => v === true || v === 'true';

function decimal(p: Body, name: string): bigint {
  const v = parseDecimal(str(p[name]) ?? '');
  if (v === undefined) throw BybitErrors.params(name);
  return v;
}

function positionSideOf(a: FuturesAccount, p: Body): PositionSide {
  const idx = Number(str(p.positionIdx) ?? '0');
  const side: PositionSide = idx === 1 ? 'LONG' : idx === 2 ? 'SHORT' : 'BOTH';
  if (a.dualSide === (side === 'BOTH') || ![0, 1, 2].includes(idx)) throw LinearErrors.positionIdx();
  return side;
}

const guard = <T>(f: () => T): T => {
  try {
    return f();
  } catch (error) {
    throw error instanceof FuturesReject ? fromReject(error) : error;
  }
};

export function linearRoutes(e: FuturesEngine): Record<string, Handler> {
  const feeOf = (a: FuturesAccount, orderId: number) => a.trades.filter((t) => t.orderId === orderId).reduce((s, t) => s + t.commission, 0n);
  const rows = (a: FuturesAccount, p: Body): { id: number; json: Record<string, unknown>; open: boolean; symbol: string; link: string }[] => {
    const hidden = hiddenOf(a);
    return [
    ...a.orders.filter((o) => !hidden.has(o.orderId)).map((o) => ({ id: o.orderId, json: orderJson(o, feeOf(a, o.orderId)), open: false, symbol: o.symbol, link: o.clientId })),
    ...a.conditionals.filter((c) => c.tpsl === undefined || c.status === 'NEW').map((c) => {
      const fill = a.orders.find((o) => o.orderId === c.actualOrderId);
      return { id: c.algoId, json: conditionalJson(c, fill, fill === undefined ? 0n : feeOf(a, fill.orderId)), open: c.status === 'NEW', symbol: c.symbol, link: c.clientId };
    }),
  ].filter((r) => (str(p.symbol) === undefined || r.symbol === str(p.symbol)) && (str(p.orderLinkId) === undefined || r.link === str(p.orderLinkId)) && (str(p.orderId) === undefined || orderIdOf(r.id) === str(p.orderId)));
  };
  // open-order.mdx / position.mdx: for linear, one of symbol, baseCoin or settleCoin is required.
  const scoped = (p: Body) => {
    if (str(p.symbol) === undefined && str(p.baseCoin) === undefined && str(p.settleCoin) === undefined) throw BybitErrors.params('symbol, baseCoin or settleCoin is required');
  };
  const list = (a: FuturesAccount, p: Body, open: boolean | undefined) => (scoped(p), {
    category: 'linear', nextPageCursor: '',
    list: rows(a, p).filter((r) => open === undefined || r.open === open).sort((x, y) => y.id - x.id).slice(0, 50).map((r) => r.json),
  });
  const tpslOf = (a: FuturesAccount, symbol: string, side: PositionSide) => {
    const open = e.openConditionals(a, symbol).filter((c) => c.tpsl !== undefined && c.positionSide === side);
    return { tp: open.find((c) => c.tpsl === 'TP')?.triggerPrice ?? 0n, sl: open.find((c) => c.tpsl === 'SL')?.triggerPrice ?? 0n };
  };
  return {
    'POST /v5/order/create': (a, p) => create(e, a, p),
    'POST /v5/order/cancel': (a, p) => {
      const id = str(p.orderId);
      const link = str(p.orderLinkId);
      const target = e.openConditionals(a, str(p.symbol)).find((c) => (id !== undefined ? orderIdOf(c.algoId) === id : c.clientId === link));
      if (target === undefined) throw LinearErrors.notFound();
      guard(() => e.cancelConditional(a, target.symbol, (c) => c === target));
      return { orderId: orderIdOf(target.algoId), orderLinkId: target.clientId };
    },
    // As the spot fake: open orders plus recently closed ones; openOnly 1/2 narrows to open ones.
    'GET /v5/order/realtime': (a, p) => list(a, p, str(p.openOnly) === '1' || str(p.openOnly) === '2' ? true : undefined),
    'GET /v5/order/history': (a, p) => list(a, p, false),
    'POST /v5/position/set-leverage': (a, p) => {
      const buy = str(p.buyLeverage);
      if (buy === undefined || buy !== str(p.sellLeverage)) throw BybitErrors.params('buyLeverage must equal sellLeverage in one-way mode');
      if (!guard(() => e.setLeverage(a, str(p.symbol) ?? '', Number(buy)))) throw LinearErrors.leverageUnchanged();
      return {};
    },
    'POST /v5/position/switch-mode': (a, p) => {
      const mode = Number(str(p.mode));
      if (mode !== 0 && mode !== 3) throw BybitErrors.params('mode');
      if (!guard(() => e.setDualSide(a, mode === 3))) throw LinearErrors.modeUnchanged();
      return {};
    },
    'POST /v5/account/set-margin-mode': (a, p) => {
      const wanted = str(p.setMarginMode);
      if (wanted !== 'ISOLATED_MARGIN' && wanted !== 'REGULAR_MARGIN') throw BybitErrors.params('setMarginMode');
      const mode: MarginMode = wanted === 'ISOLATED_MARGIN' ? 'ISOLATED' : 'CROSSED';
      const symbols = [...e.markets.keys()];
      if (symbols.every((s) => (a.marginMode.get(s) ?? 'CROSSED') === mode)) throw LinearErrors.marginModeUnchanged();
      if ([...a.positions.values()].some((x) => x.qty !== 0n) || e.openConditionals(a).length > 0) throw LinearErrors.marginModeFailed();
      for (const s of symbols) a.marginMode.set(s, mode);
      return { reasons: [] };
    },
    'GET /v5/position/list': (a, p) => {
      scoped(p);
      const symbol = str(p.symbol);
      const sides: PositionSide[] = a.dualSide ? ['LONG', 'SHORT'] : ['BOTH'];
      // With a symbol: every position slot of it, flat ones included; by settleCoin: only non-zero sizes.
      const positions = symbol !== undefined
        ? sides.map((s) => positionOf(a, guard(() => e.market(symbol)).id, s))
        : [...a.positions.values()].filter((x) => x.qty !== 0n);
      return { category: 'linear', nextPageCursor: '', list: positions.map((x) => positionJson(e, a, x, tpslOf(a, x.symbol, x.positionSide))) };
    },
    'POST /v5/position/trading-stop': (a, p) => tradingStop(e, a, p),
    // execution.mdx: execType Trade, or BustTrade for the fills of a liquidation; filter by execType and startTime.
    'GET /v5/execution/list': (a, p) => {
      const liquidation = new Set(a.orders.filter((o) => o.type === 'LIQUIDATION').map((o) => o.orderId));
      const rows = a.trades
        .filter((t) => (str(p.symbol) === undefined || t.symbol === str(p.symbol)) && (str(p.startTime) === undefined || t.time >= Number(str(p.startTime))))
        .map((t) => ({ t, execType: liquidation.has(t.orderId) ? 'BustTrade' : 'Trade' }))
        .filter((r) => str(p.execType) === undefined || r.execType === str(p.execType));
      const trades = rows.reverse().map((r) => executionJson(r.t, ownerOf(a, r.t.orderId), e.market(r.t.symbol).mark, r.execType));
      // Funding settlements: execType Funding, execFee positive when paid (execution.mdx).
      const funding = str(p.execType) !== undefined && str(p.execType) !== 'Funding' ? [] : a.income
        .filter((i) => i.incomeType === 'FUNDING_FEE' && (str(p.symbol) === undefined || i.symbol === str(p.symbol)))
        .map((i) => ({ symbol: i.symbol, execType: 'Funding', execFee: signed(-i.income), execTime: String(i.time), execId: orderIdOf(i.tranId), feeRate: '0.0001', orderId: '', execQty: '0', execPrice: '0' }));
      return { category: 'linear', nextPageCursor: '', list: [...funding, ...trades] };
    },
    'GET /v5/position/closed-pnl': (a, p) => ({
      category: 'linear', nextPageCursor: '',
      list: a.trades.filter((t) => t.realizedPnl !== 0n && (str(p.symbol) === undefined || t.symbol === str(p.symbol))).reverse().map((t) => {
        const sign = t.side === 'SELL' ? 1n : -1n; // a sell closes a long: pnl = (exit − entry)·qty
        const entry = t.price - (t.realizedPnl * 10n ** 18n) / (t.qty * sign);
        return closedPnlJson(t, ownerOf(a, t.orderId), entry, a.leverage.get(t.symbol) ?? 20);
      }),
    }),
    'GET /v5/account/wallet-balance': (a) => walletJson(e, a),
  };
}

/** The order a trade belongs to as Bybit shows it: a triggered conditional keeps its own id and link id. */
function ownerOf(a: FuturesAccount, orderId: number): { orderId: number; clientId: string } {
  if (hiddenOf(a).has(orderId)) {
    const c = a.conditionals.find((x) => x.actualOrderId === orderId);
    if (c !== undefined) return { orderId: c.algoId, clientId: c.clientId };
  }
  return { orderId, clientId: a.orders.find((o) => o.orderId === orderId)?.clientId ?? '' };
}

function create(e: FuturesEngine, a: FuturesAccount, p: Body): unknown {
  if (str(p.category) !== 'linear') throw BybitErrors.params('category: this fake serves linear only');
  const sideText = str(p.side);
  if (sideText !== 'Buy' && sideText !== 'Sell') throw BybitErrors.params('side');
  if (str(p.orderType) !== 'Market') throw BybitErrors.params('orderType: this fake serves Market only');
  const link = str(p.orderLinkId) ?? `fake${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  if (!LINK_ID.test(link)) throw BybitErrors.params('orderLinkId');
  const side: Side = sideText === 'Buy' ? 'BUY' : 'SELL';
  const base = { symbol: str(p.symbol) ?? '', side, qty: decimal(p, 'qty'), positionSide: positionSideOf(a, p), reduceOnly: bool(p.reduceOnly), clientId: link };
  if (str(p.triggerPrice) === undefined) {
    const o = guard(() => e.placeMarket(a, base));
    return { orderId: orderIdOf(o.orderId), orderLinkId: o.clientId };
  }
  const trigger = decimal(p, 'triggerPrice');
  const dir = Number(str(p.triggerDirection));
  if (dir !== 1 && dir !== 2) throw BybitErrors.params('triggerDirection');
  const mark = guard(() => e.market(base.symbol)).mark;
  if (dir === 1 && trigger <= mark) throw LinearErrors.rising(plain(trigger), plain(mark));
  if (dir === 2 && trigger >= mark) throw LinearErrors.falling(plain(trigger), plain(mark));
  const closing = bool(p.closeOnTrigger);
  const c = guard(() => e.placeConditional(a, { ...base, type: 'STOP_MARKET', triggerPrice: trigger, direction: dir === 1 ? 'up' : 'down', closePosition: false, reduceOnly: base.reduceOnly || closing }));
  return { orderId: orderIdOf(c.algoId), orderLinkId: c.clientId };
}

function tradingStop(e: FuturesEngine, a: FuturesAccount, p: Body): unknown {
  const positionSide = positionSideOf(a, p);
  const m = guard(() => e.market(str(p.symbol) ?? ''));
  const position = positionOf(a, m.id, positionSide);
  if (position.qty === 0n) throw LinearErrors.zeroPosition();
  const long = position.qty > 0n;
  for (const kind of ['TP', 'SL'] as const) {
    const text = str(kind === 'TP' ? p.takeProfit : p.stopLoss);
    if (text === undefined) continue;
    const old = e.openConditionals(a, m.id).find((c: ConditionalOrder) => c.tpsl === kind && c.positionSide === positionSide);
    if (old !== undefined) old.status = 'CANCELED';
    const price = parseDecimal(text);
    if (price === undefined) throw BybitErrors.params(kind === 'TP' ? 'takeProfit' : 'stopLoss');
    if (price === 0n) continue;
    // A long's TP fires on a rise and its SL on a fall; a short's the reverse.
    const up = (kind === 'TP') === long;
    guard(() => e.placeConditional(a, { symbol: m.id, side: long ? 'SELL' : 'BUY', qty: 0n, positionSide, reduceOnly: true, closePosition: true, clientId: '', type: kind === 'TP' ? 'TAKE_PROFIT_MARKET' : 'STOP_MARKET', triggerPrice: price, direction: up ? 'up' : 'down', tpsl: kind }));
  }
  return {};
}

function walletJson(e: FuturesEngine, a: FuturesAccount): unknown {
  let upl = 0n;
  let im = 0n;
  let mm = 0n;
  let isolated = 0n;
  for (const x of a.positions.values()) {
    if (x.qty === 0n) continue;
    const n = e.positionNumbers(a, x.symbol, x.positionSide);
    upl += n.unrealized;
    im += n.initial;
    mm += n.maint;
    isolated += x.isolatedMargin;
  }
  const wallet = a.wallet + isolated;
  const avail = e.available(a);
  const sign = (v: bigint) => (v < 0n ? `-${plain(-v)}` : plain(v));
  const coin = {
    coin: 'USDT', equity: sign(wallet + upl), usdValue: sign(wallet + upl), walletBalance: plain(wallet), locked: '0', spotHedgingQty: '0', borrowAmount: '0',
    accruedInterest: '0', totalOrderIM: '0', totalPositionIM: plain(im), totalPositionMM: plain(mm), unrealisedPnl: sign(upl), cumRealisedPnl: '0',
    bonus: '0', marginCollateral: true, collateralSwitch: true, availableToWithdraw: '', availableToBorrow: '',
  };
  return {
    list: [{
      accountType: 'UNIFIED', accountIMRate: '0', accountMMRate: '0', totalEquity: coin.equity, totalWalletBalance: coin.walletBalance,
      totalMarginBalance: coin.equity, totalAvailableBalance: plain(avail), totalPerpUPL: coin.unrealisedPnl, totalInitialMargin: plain(im),
      totalMaintenanceMargin: plain(mm), accountLTV: '0', coin: [coin],
    }],
  };
}

/** Market orders a conditional became when it fired: Bybit shows them under the conditional's own id. */
function hiddenOf(a: FuturesAccount): Set<number> {
  return new Set(a.conditionals.map((c) => c.actualOrderId).filter((id) => id !== 0));
}
