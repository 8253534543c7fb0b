/**
 * Futures positions for the reconciliation tests and bench: real PostgreSQL rows (user, strategy, futures
 * subscription with keys sealed by the real Keyring, Position) and real orders on a futures fake through
 * FuturesAccounts ('order' traffic), as the executor leaves them after an OPEN: the entry filled, the
 * reduce-only stop-loss and take-profit resting under our client ids.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import { InProcessBus } from '../../src/bus/index.js';
import { createKeyThrottle, createVenueBudget, FuturesAccounts, type VenueBudget } from '../../src/exchange/index.js';
import { FuturesReconciler } from '../../src/execution/index.js';
import { Keyring } from '../../src/lib/crypto.js';
import { createLogger } from '../../src/lib/logger.js';
import { createSubscriptions, type SubscriptionRepository } from '../../src/subscriptions/index.js';
import { FakeBinanceFutures } from './fake-exchange/binance-futures/server.js';
import { FakeBybitLinear } from './fake-exchange/bybit-linear/server.js';

export type FuturesFake = FakeBinanceFutures | FakeBybitLinear;
export type Venue = 'binance' | 'bybit';

export interface Kit {
  pool: pg.Pool;
  prisma: PrismaClient;
  keys: SubscriptionRepository;
  /** The user's side of the exchange: places orders as the executor (or the user by hand) would. */
  trader: FuturesAccounts;
  urls: Record<string, string>;
  /** A reconciler on this database and these fakes (not started). */
  reconciler(opts?: { intervalMs?: number; budget?: VenueBudget; budgetWaitMs?: number; keysInParallel?: number }): FuturesReconciler;
  close(): Promise<void>;
}

export async function futuresKit(databaseUrl: string, urls: Record<string, string>): Promise<Kit> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const keyring = new Keyring(randomBytes(32));
  const log = createLogger('silent');
  const keys = createSubscriptions({ prisma, keyring, bus: new InProcessBus(log) });
  // The fakes enforce no weight limit: a budget the tests never run out of (except where a test passes its own).
  const unbounded = () => createVenueBudget({ prefix: '', settings: { percent: 100, perVenue: { binanceusdm: 1e9, bybit: 1e9 }, otherPercent: 100, maxWaitMs: 0 } });
  const trader = new FuturesAccounts({ exchangeUrls: urls, timeoutMs: 5000, traffic: 'order', budget: unbounded() });
  const made: FuturesReconciler[] = [];
  return {
    pool, prisma, keys, trader, urls,
    reconciler(o = {}) {
      const r = new FuturesReconciler(
        { pool, keys, throttle: createKeyThrottle(undefined, `rc-${randomUUID()}`), budget: o.budget ?? unbounded(), log },
        { intervalMs: o.intervalMs ?? 300, exchangeUrls: urls, exchangeTimeoutMs: 5000, recvWindowMs: 5000, budgetWaitMs: o.budgetWaitMs ?? 2000, keysInParallel: o.keysInParallel },
      );
      made.push(r);
      return r;
    },
    async close() {
      for (const r of made) await r.stop();
      await trader.close();
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

/**
 * Registers before/after hooks in the calling describe: both futures fakes and a kit on them and `databaseUrl`.
 * Both fakes serve every test, so a position an earlier run left in the database reaches a fake, never a venue.
 */
export function useFuturesKit(databaseUrl: string): { fakes: { binance: FakeBinanceFutures; bybit: FakeBybitLinear }; kit: () => Kit } {
  const fakes = { binance: new FakeBinanceFutures(), bybit: new FakeBybitLinear() };
  let kit: Kit | undefined;
  before(async () => { kit = await futuresKit(databaseUrl, { binance: await fakes.binance.start(), bybit: await fakes.bybit.start() }); });
  after(async () => {
    await kit?.close();
    await Promise.all([fakes.binance.stop(), fakes.bybit.stop()]);
  });
  return { fakes, kit: () => kit! };
}

export interface FuturesSub { subId: string; userId: string; strategyId: string; apiKey: string; secret: string; venue: Venue }

/** A user with a futures subscription on `venue` whose key is an account on `fake` holding `usdt`. */
export async function futuresSub(kit: Kit, venue: Venue, fake: FuturesFake, usdt = 10_000, apiKey = `fk-${randomUUID()}`, userId?: string): Promise<FuturesSub> {
  const secret = `fs-${randomUUID()}`;
  if (!fake.engine.accounts.has(apiKey)) fake.addAccount(apiKey, secret, { USDT: usdt });
  const user = userId ? { id: userId } : await kit.prisma.user.create({ data: { email: `rc-${randomUUID()}@test.local`, passwordHash: 'x' } });
  const strategy = await kit.prisma.strategy.create({ data: { name: `rc ${randomUUID().slice(0, 6)}`, authorId: user.id } });
  const sub = await kit.keys.create(user.id, { strategyId: strategy.id, exchange: venue, sizing: { mode: 'quote', amount: 100 }, apiKey, apiSecret: secret });
  await kit.prisma.subscription.update({ where: { id: sub.id }, data: { market: 'futures', leverage: 10 } });
  return { subId: sub.id, userId: user.id, strategyId: strategy.id, apiKey, secret, venue };
}

/** Same user, same key: a second subscription (another strategy). */
export async function sameKeySub(kit: Kit, of: FuturesSub, fake: FuturesFake): Promise<FuturesSub> {
  const s = await futuresSub(kit, of.venue, fake, 0, of.apiKey, of.userId);
  return { ...s, secret: of.secret };
}

export interface Held { positionId: string; pair: string; symbol: string; slId: string | null; tpId: string | null; entry: number }

/**
 * Opens `qty` on the venue (entry, then the reduce-only SL and TP under fresh ids) and records the Position
 * as the executor does. `leverage`/`isolated` are set first when given.
 */
export async function openHeld(kit: Kit, s: FuturesSub, o: { pair?: string; side: 'long' | 'short'; qty: number; sl?: number; tp?: number; leverage?: number; isolated?: boolean }): Promise<Held> {
  const pair = o.pair ?? 'BTC/USDT';
  const symbol = `${pair}:USDT`;
  const acc = kit.trader.forKey(s.venue, s.apiKey, s.secret);
  await kit.trader.ensureMarkets(s.venue);
  if (o.leverage) await acc.ensureLeverageAndMargin(symbol, o.leverage, o.isolated ? 'isolated' : 'cross');
  const tag = randomUUID().replace(/-/g, '').slice(0, 20);
  const entry = await acc.openPosition(symbol, o.side, o.qty, `sm${tag}e`);
  const protect = async (kind: 'stopLoss' | 'takeProfit', price: number | undefined) => {
    if (price === undefined) return null;
    const id = `sm${tag}${kind === 'stopLoss' ? 's' : 't'}`;
    await acc.placeProtective({ symbol, positionSide: o.side, kind, triggerPrice: price, amount: o.qty, clientOrderId: id });
    return id;
  };
  const slId = await protect('stopLoss', o.sl);
  const tpId = await protect('takeProfit', o.tp);
  const entryPrice = entry.average ?? (await acc.findOrder(symbol, entry.clientOrderId))?.average ?? 0;
  const p = await kit.prisma.position.create({
    data: { subscriptionId: s.subId, strategyId: s.strategyId, pair, market: 'futures', side: o.side, qty: o.qty, avgPrice: entryPrice, slClientOrderId: slId, tpClientOrderId: tpId, stopLoss: o.sl, takeProfit: o.tp, leverage: o.leverage ?? 10 },
  });
  return { positionId: p.id, pair, symbol, slId, tpId, entry: entryPrice };
}

/** The reconciler's rows of a subscription, oldest first. */
export function reconcileRows(kit: Kit, subId: string) {
  return kit.prisma.executionLog.findMany({ where: { subscriptionId: subId, orderType: 'reconcile' }, orderBy: { createdAt: 'asc' } });
}
