/**
 * TradingView alert bodies → signal bodies. Two shapes are accepted:
 *  - our own fields (pair/action/direction/price/...), passed through;
 *  - a strategy alert using TradingView placeholders: ticker, action ({{strategy.order.action}}),
 *    market_position and prev_market_position ({{strategy.market_position}} …), price ({{close}}),
 *    time ({{timenow}}). Position transitions map as flat→long OPEN LONG, long→flat CLOSE LONG,
 *    flat→short OPEN SHORT, short→flat CLOSE SHORT, long→short CLOSE LONG + OPEN SHORT (and mirrored).
 */
import { AppError } from '../lib/errors.js';

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'DAI', 'USD', 'EUR', 'TRY', 'BTC', 'ETH', 'BNB'];

/** "BTCUSDT", "BINANCE:BTCUSDT", "BTCUSDT.P", "BTC-USDT" → "BTC/USDT". Unknown quote → 400. */
export function tickerToPair(ticker: string): string {
  let t = ticker.trim().toUpperCase();
  if (t.includes(':')) t = t.split(':').pop()!;
  t = t.replace(/\.P$|PERP$/, '');
  if (/^[A-Z0-9]+[/-][A-Z0-9]+$/.test(t)) return t.replace('-', '/');
  const quote = QUOTES.find((q) => t.endsWith(q) && t.length > q.length + 1);
  if (!quote) throw new AppError('SIGNAL_INVALID', `cannot tell the quote currency of ticker "${ticker}"; send pair as BASE/QUOTE`, 400);
  return `${t.slice(0, -quote.length)}/${quote}`;
}

type Body = Record<string, unknown>;
type Position = 'long' | 'short' | 'flat';

function position(v: unknown, field: string): Position {
  const p = String(v ?? '').trim().toLowerCase();
  if (p === 'long' || p === 'short' || p === 'flat') return p;
  throw new AppError('SIGNAL_INVALID', `${field} must be long, short or flat`, 400);
}

/** Returns one or two signal bodies (without strategyId) for the coordinator's validation. */
export function fromTradingView(body: Body): Body[] {
  const hasOwn = body.pair !== undefined || (body.action && ['OPEN', 'CLOSE'].includes(String(body.action).toUpperCase()));
  if (hasOwn && body.market_position === undefined) {
    const pair = body.pair ?? (typeof body.ticker === 'string' ? tickerToPair(body.ticker) : undefined);
    return [{ ...body, pair, timestamp: body.timestamp ?? body.time }];
  }
  if (typeof body.ticker !== 'string') throw new AppError('SIGNAL_INVALID', 'pair (or ticker) is required', 400);
  const pair = tickerToPair(body.ticker);
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
