/**
 * Child process of bench/reconcile.bench.ts: FakeBinanceFutures and FakeBybitLinear with ten perpetuals each
 * (P0USDT … P9USDT), serving the bench over HTTP from their own process, so the bench's process.cpuUsage()
 * measures the reconciler and not the fakes. Commands over IPC:
 *  { cmd: 'open', venue, apiKey, secret, positions: [{ market, side, qty, sl, tp, slId, tpId }] } → entries
 *    filled and reduce-only SL/TP resting, straight on the engine (no HTTP): { entries: number[] }
 *  { cmd: 'mark', market, price } → both fakes move the mark (conditionals fire)
 *  { cmd: 'requests' } → { positions, orders }: positions and resting-order requests since the last call
 */
import { FakeBinanceFutures } from '../test/support/fake-exchange/binance-futures/server.js';
import { FakeBybitLinear } from '../test/support/fake-exchange/bybit-linear/server.js';
import { toUnits } from '../test/support/fake-exchange/decimal.js';
import type { FuturesMarketSpec } from '../test/support/fake-exchange/futures/types.js';

export const MARKETS = Array.from({ length: 10 }, (_, i) => `P${i}`);
const spec = (base: string): FuturesMarketSpec => ({ base, quote: 'USDT', markPrice: 100, tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: 5, maxLeverage: 100, maintMarginRate: '0.004' });

interface Open { market: string; side: 'long' | 'short'; qty: number; sl: number; tp: number; slId: string; tpId: string }
type Command =
  | { id: number; cmd: 'open'; venue: 'binance' | 'bybit'; apiKey: string; secret: string; positions: Open[] }
  | { id: number; cmd: 'mark'; market: string; price: number }
  | { id: number; cmd: 'requests' };

const fakes = { binance: new FakeBinanceFutures({ markets: MARKETS.map(spec) }), bybit: new FakeBybitLinear({ markets: MARKETS.map(spec) }) };
const origins = { binance: await fakes.binance.start(), bybit: await fakes.bybit.start() };
process.send!({ ready: origins });

function open(c: Extract<Command, { cmd: 'open' }>): number[] {
  const fake = fakes[c.venue];
  fake.addAccount(c.apiKey, c.secret, { USDT: 1_000_000 });
  const e = fake.futures;
  const a = e.account(c.apiKey);
  return c.positions.map((p) => {
    const symbol = `${p.market}USDT`;
    const buy = p.side === 'long';
    const base = { symbol, positionSide: 'BOTH' as const, qty: toUnits(p.qty), reduceOnly: false };
    const entry = e.placeMarket(a, { ...base, side: buy ? 'BUY' : 'SELL', clientId: `e${p.slId}` });
    const close = { ...base, side: buy ? 'SELL' as const : 'BUY' as const, reduceOnly: true };
    // A long's stop fires on a fall, its take profit on a rise; a short's the reverse.
    e.placeConditional(a, { ...close, clientId: p.slId, type: 'STOP_MARKET', triggerPrice: toUnits(p.sl), direction: buy ? 'down' : 'up' });
    e.placeConditional(a, { ...close, clientId: p.tpId, type: 'TAKE_PROFIT_MARKET', triggerPrice: toUnits(p.tp), direction: buy ? 'up' : 'down' });
    return Number(entry.avgPrice) / 1e18;
  });
}

process.on('message', (m: Command) => {
  if (m.cmd === 'open') process.send!({ id: m.id, entries: open(m) });
  else if (m.cmd === 'mark') {
    for (const f of Object.values(fakes)) f.setMarkPrice(`${m.market}USDT`, m.price);
    process.send!({ id: m.id });
  } else if (m.cmd === 'requests') {
    const counts = {
      positions: fakes.binance.requestCount('/fapi/v3/positionRisk') + fakes.bybit.requestCount('/v5/position/list'),
      orders: fakes.binance.requestCount('/fapi/v1/openAlgoOrders') + fakes.bybit.requestCount('/v5/order/realtime'),
    };
    for (const f of Object.values(fakes)) f.resetCounters();
    process.send!({ id: m.id, ...counts });
  }
});
process.on('disconnect', () => process.exit(0));
