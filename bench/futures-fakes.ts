/**
 * Child process of bench/futures.bench.ts: FakeBinanceFutures and FakeBybitLinear (ETHUSDT at 3,000) serving the
 * bench over HTTP from their own process, so the fakes do not share the executor's event loop and core.
 * Commands over IPC (each answered with its id):
 *  { cmd: 'accounts', round, venue, keys: [{ apiKey, secret }] } → funded accounts (USDT 1,000), remembered per round
 *  { cmd: 'complete', round, orders } → { done }: accounts of the round with `orders` market orders (default 1: the
 *    entry) and two resting protective orders
 *  { cmd: 'posts' } → { posts }: order-create requests so far (entries and protective orders, both venues)
 */
import { FakeBinanceFutures } from '../test/support/fake-exchange/binance-futures/server.js';
import { FakeBybitLinear } from '../test/support/fake-exchange/bybit-linear/server.js';

type Venue = 'binance' | 'bybit';
type Command =
  | { id: number; cmd: 'accounts'; round: number; venue: Venue; keys: { apiKey: string; secret: string }[] }
  | { id: number; cmd: 'complete'; round: number; orders?: number }
  | { id: number; cmd: 'posts' };

const fakes = { binance: new FakeBinanceFutures(), bybit: new FakeBybitLinear() };
const origins = { binance: await fakes.binance.start(), bybit: await fakes.bybit.start() };
const rounds = new Map<number, { venue: Venue; apiKey: string }[]>();
process.send!({ ready: origins });

const complete = (venue: Venue, apiKey: string, orders: number) => {
  const a = fakes[venue].futuresAccount(apiKey);
  return a.orders.length === orders && a.conditionals.filter((c) => c.status === 'NEW').length === 2;
};

process.on('message', (m: Command) => {
  if (m.cmd === 'accounts') {
    for (const k of m.keys) fakes[m.venue].addAccount(k.apiKey, k.secret, { USDT: 1000 });
    const list = rounds.get(m.round) ?? [];
    rounds.set(m.round, [...list, ...m.keys.map((k) => ({ venue: m.venue, apiKey: k.apiKey }))]);
    process.send!({ id: m.id });
  } else if (m.cmd === 'complete') {
    process.send!({ id: m.id, done: (rounds.get(m.round) ?? []).filter((k) => complete(k.venue, k.apiKey, m.orders ?? 1)).length });
  } else {
    const posts = fakes.binance.requestCount('/fapi/v1/order', 'POST') + fakes.binance.requestCount('/fapi/v1/algoOrder', 'POST') + fakes.bybit.requestCount('/v5/order/create', 'POST');
    process.send!({ id: m.id, posts });
  }
});
process.on('disconnect', () => process.exit(0));
