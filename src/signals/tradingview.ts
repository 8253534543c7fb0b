/**
 * TradingView alert bodies → signal bodies. Two shapes are accepted:
 *  - our own fields (pair/action/direction/price/...), passed through;
 *  - a strategy alert using TradingView placeholders: ticker, action ({{strategy.order.action}}),
 *    market_position and prev_market_position ({{strategy.market_position}} …), price ({{close}}),
 *    time ({{timenow}}). Position transitions map as flat→long OPEN LONG, long→flat CLOSE LONG,
 *    flat→short OPEN SHORT, short→flat CLOSE SHORT, long→short CLOSE LONG + OPEN SHORT (and mirrored).
 */
import { AppError } from '../lib/errors.js';
import type { MarketList } from './reference.js';

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'DAI', 'USD', 'EUR', 'TRY', 'BTC', 'ETH', 'BNB'];

/**
 * "BTCUSDT", "BINANCE:BTCUSDT", "BTCUSDT.P", "BTC-USDT" → "BTC/USDT".
 * With the reference exchange's market list, a separator-less ticker maps to the listed market it spells
 * (the longest quote wins: DOTUSD → DOT/USD), and one it does not list is refused (400 PAIR_NOT_LISTED):
 * the exchange prefix ("KRAKEN:") names the chart's venue, not ours. Without a list (offline) only an
 * unambiguous ticker maps: one whose ending is exactly one known quote (BTCUSDT); DOTUSD could be
 * DOT/USD or DO/TUSD and is refused (400) with a request for BASE/QUOTE.
 */
export function tickerToPair(ticker: string, markets?: MarketList): string {
  let t = ticker.trim().toUpperCase();
  if (t.includes(':')) t = t.split(':').pop()!;
  t = t.replace(/\.P$|PERP$/, '');
  if (/^[A-Z0-9]+[/-][A-Z0-9]+$/.test(t)) return t.replace('-', '/');
  if (markets) {
    const pair = markets.resolve(t);
    if (!pair) throw new AppError('PAIR_NOT_LISTED', `the reference exchange lists no market for ticker "${ticker}"; send pair as BASE/QUOTE of a listed market`, 400);
    return pair;
  }
  const quotes = QUOTES.filter((q) => t.endsWith(q) && t.length > q.length + 1);
  if (!quotes.length) throw new AppError('SIGNAL_INVALID', `cannot tell the quote currency of ticker "${ticker}"; send pair as BASE/QUOTE`, 400);
  if (quotes.length > 1) {
    const readings = quotes.map((q) => `${t.slice(0, -q.length)}/${q}`).join(' or ');
    throw new AppError('SIGNAL_INVALID', `ticker "${ticker}" is ambiguous (${readings}) while the market list is not known; send pair as BASE/QUOTE`, 400);
  }
  return `${t.slice(0, -quotes[0]!.length)}/${quotes[0]}`;
}

type Body = Record<string, unknown>;
type Position = 'long' | 'short' | 'flat';

function position(v: unknown, field: string): Position {
  const p = String(v ?? '').trim().toLowerCase();
  if (p === 'long' || p === 'short' || p === 'flat') return p;
  throw new AppError('SIGNAL_INVALID', `${field} must be long, short or flat`, 400);
}

/** Returns one or two signal bodies (without strategyId) for the coordinator's validation. */
export function fromTradingView(body: Body, markets?: MarketList): Body[] {
  const hasOwn = body.pair !== undefined || (body.action && ['OPEN', 'CLOSE'].includes(String(body.action).toUpperCase()));
  if (hasOwn && body.market_position === undefined) {
    const pair = body.pair ?? (typeof body.ticker === 'string' ? tickerToPair(body.ticker, markets) : undefined);
    return [{ ...body, pair, timestamp: body.timestamp ?? body.time }];
  }
  if (typeof body.ticker !== 'string') throw new AppError('SIGNAL_INVALID', 'pair (or ticker) is required', 400);
  const pair = tickerToPair(body.ticker, markets);
  const now = position(body.market_position, 'market_position');
  const prev = position(body.prev_market_position, 'prev_market_position');
  const base = { pair, price: body.price ?? body.close, timestamp: body.timestamp ?? body.time, note: body.note ?? body.comment, stopLoss: body.stopLoss, takeProfit: body.takeProfit };
  const out: Body[] = [];
  if (prev !== 'flat' && prev !== now) out.push({ ...base, action: 'CLOSE', direction: prev.toUpperCase(), stopLoss: undefined, takeProfit: undefined, idempotencyKey: key(body, 'close') });
  if (now !== 'flat' && prev !== now) out.push({ ...base, action: 'OPEN', direction: now.toUpperCase(), idempotencyKey: key(body, 'open') });
  if (!out.length) throw new AppError('SIGNAL_INVALID', `no position change (${prev} → ${now}); nothing to do`, 400);
  return out;
}

/** With an alert id or time, a retried delivery of the same alert is recognised by its key. */
function key(body: Body, leg: string): string | undefined {
  const id = body.idempotencyKey ?? body.alert_id ?? (body.time !== undefined ? `${body.ticker}|${body.time}|${body.market_position}` : undefined);
  return id === undefined ? undefined : `tv:${String(id)}:${leg}`;
}
