/**
 * JobRunner: executes one claimed intent as a list of steps and returns its Outcome.
 * OPEN (spot long): refusals (status, closeOnly, daily loss, short, position) → the venue's price →
 * PRICE_MOVED (further than the subscription's maxSlippagePercent from the signal's price) → size →
 * minimums → entry buy (quote-sized where the venue offers it) → persist legs → protective sell (stop
 * loss, take profit, or both as one order list where the venue has one). CLOSE: cancel the protective
 * order (counting what it filled) → sell what the position still holds, whatever the price. Sizes and minimums use the venue's own price, never the signal's: the declared price only
 * decides whether an entry is still worth making. Before any order of a row that was claimed before
 * (attempts > 1: a previous attempt may have reached the exchange), the order is looked up by its
 * clientOrderId; a found order is recorded, never resent. Keys are opened here (through the subscriptions
 * module's repository, its only decryption of them besides test-keys) and never leave the run.
 * Throws ExchangeError (the executor decides: retry / fail / mark keys) or LeaseLost.
 */
import type pg from 'pg';
import { ExchangeError, type ExchangeClients, type ExchangeOrder, type KeyThrottle, type OrderRequest, type TradingClient } from '../exchange/index.js';
import type { SubscriptionKeys } from '../subscriptions/index.js';
import { clientOrderId, keyScope, type Leg } from './ids.js';
import type { JobStore } from './job-store.js';
import { PaperClient } from './paper.js';
import { entryRefusal } from './refusals.js';
import { openKeys, type RunnerBaseDeps } from './deps.js';
import { minimumsRefusal, needsBalance, parseRisk, parseSizing, priceMovedRefusal, quoteToSpend } from './sizing.js';
import { LeaseLost, unclearFailures, type Job, type JobData, type LegRecord, type Outcome } from './types.js';
import type { VenuePrices, VenueQuote } from './venue-price.js';

export interface RunnerDeps extends RunnerBaseDeps {
  pool: pg.Pool;
  clients: ExchangeClients;
  /** The venues' current prices (public tickers through `clients`). */
  prices: VenuePrices;
  /** A stop-limit's limit price lies this many percent below its trigger (EXECUTOR_STOP_LIMIT_OFFSET_PERCENT; default 0.5). */
  stopLimitOffsetPercent?: number;
}

type Sub = NonNullable<JobData['sub']>;
type Sig = NonNullable<JobData['signal']>;

/** Time spent in exchange calls, and when the first one started (performance.now). */
export interface RunTiming { exchangeMs: number; firstCallAt?: number }
/**
 * A reference price and where it came from: the venue's ticker; in paper mode with the venue out of
 * reach, the signal's declared price (the row says "unverified"); for a live CLOSE with the ticker out
 * of reach, what the position cost (only for the minimum-notional estimate: the sell itself is market).
 */
interface Priced { price: number; source: 'venue' | 'signal' | 'position' }
/** Everything one run needs. `paperPrice`: the fill price of a paper run (looked up once, in prepare). */
interface Run { job: Job; sub: Sub; signal: Sig; client: TradingClient; scope: string; rps: number; timing: RunTiming; paperPrice?: Priced }
const LEASE_MARGIN_MS = 1000;
/** What a row records when the venue rests no protective orders (the dialect says so). */
const NO_EXCHANGE_STOPS = 'NO_EXCHANGE_STOPS: this exchange rests no stop-loss/take-profit orders for spot; the strategy\'s CLOSE signal (the trade monitor) is the stop';

export class JobRunner {
  constructor(private readonly d: RunnerDeps) {}

  get paper() { return this.d.mode === 'paper'; }

  /** Runs the job; `timing.exchangeMs` reports the time spent in exchange calls. */
  async run(job: Job, timing: RunTiming): Promise<Outcome> {
    const { sub, signal } = job.data;
    if (!sub || !signal) return { status: 'FAILED', error: 'NOT_FOUND: subscription or signal no longer exists' };
    if (sub.keysInvalid && !job.legs.entry) return { status: 'SKIPPED', error: 'KEYS_INVALID: the exchange refused this subscription\'s API key; store new keys' };
    if (signal.action === 'OPEN' && !job.legs.entry) {
      const refusal = entryRefusal(job, sub, { shorts: false });
      if (refusal) return { status: 'SKIPPED', error: refusal, side: 'buy' };
    }
    const run = await this.prepare(job, sub, signal, timing);
    if ('status' in run) return run;
    return signal.action === 'OPEN' ? this.open(run) : this.close(run);
  }

  /** Builds the venue client (decrypting the keys in live mode; looking up the fill price in paper mode). */
  private async prepare(job: Job, sub: Sub, signal: Sig, timing: RunTiming): Promise<Run | Outcome> {
    const base = { job, sub, signal, timing };
    if (this.paper) {
      const paperPrice = await this.paperReference(job, signal, timing);
      return { ...base, client: new PaperClient(paperPrice.price, this.d.paperBalance), scope: '', rps: 0, paperPrice };
    }
    const { apiKey, secret } = openKeys(this.d.keys, sub);
    if (!this.d.clients.marketsFresh(job.exchange)) {
      // Loading markets is an exchange call (one per exchange per TTL, shared by every job).
      const t = performance.now();
      try { await this.d.clients.ensureMarkets(job.exchange); } finally { timing.exchangeMs += performance.now() - t; }
    }
    const client = this.d.clients.forKey(job.exchange, apiKey, secret);
    return { ...base, client, scope: keyScope(job.exchange, apiKey), rps: Math.max(1, Math.floor(1000 / Math.max(1, client.minIntervalMs))) };
  }

  private async call<T>(r: Run, f: () => Promise<T>): Promise<T> {
    if (r.rps) await this.d.throttle.acquire(r.scope, r.rps);
    return this.timed(r.timing, f);
  }

  /** Runs an exchange call, counting its time as exchange time. */
  private async timed<T>(timing: RunTiming, f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    timing.firstCallAt ??= t;
    try { return await f(); } finally { timing.exchangeMs += performance.now() - t; }
  }

  /**
   * The venue's price for an order of `side` now: the ask for a buy, the bid for a sell (the last trade
   * where the book gave none). A public ticker, shared by the jobs of one signal (VenuePrices); it is not
   * a call of the subscriber's key, so it does not take from the key's throttle. Throws ExchangeError.
   */
  private async venuePrice(r: Run, side: 'buy' | 'sell'): Promise<Priced> {
    if (r.paperPrice) return r.paperPrice;
    const q = await this.timed(r.timing, () => this.d.prices.get(r.job.exchange, r.job.pair, r.signal.acceptedAt));
    const price = pick(q, side);
    if (price === null) throw new ExchangeError('temporary', `${r.job.exchange} gave no price for ${r.job.pair}`, 'NoPrice');
    return { price, source: 'venue' };
  }

  /** Paper fill price: the venue's (as a live order would see it), else the signal's, marked unverified. */
  private async paperReference(job: Job, signal: Sig, timing: RunTiming): Promise<Priced> {
    try {
      const q = await this.timed(timing, () => this.d.prices.get(job.exchange, job.pair, signal.acceptedAt));
      const price = pick(q, signal.action === 'OPEN' ? 'buy' : 'sell');
      if (price !== null) return { price, source: 'venue' };
    } catch { /* out of reach (offline quick start): the signal's price, said so on the row */ }
    return { price: signal.price, source: 'signal' };
  }

  private cid(r: Run, leg: Leg) { return leg === 'entry' ? r.job.clientOrderId : clientOrderId(r.job.signalId, r.job.subscriptionId, leg); }

  private record(r: Run, leg: Leg, o: ExchangeOrder, how: string): LegRecord {
    const base = r.job.pair.split('/')[0];
    const baseFee = o.fees.filter((f) => f.currency === base).reduce((a, f) => a + f.cost, 0);
    const rec: LegRecord = { orderId: o.id, clientOrderId: o.clientOrderId || this.cid(r, leg), status: o.status, filled: o.filled, average: o.average, ...(baseFee > 0 ? { baseFee } : {}), response: o.raw };
    r.job.legs[leg] = rec;
    this.history(r.job, leg, how);
    return rec;
  }

  private history(job: Job, leg: string | undefined, outcome: string, error?: string) {
    const h = (job.legs.history ??= []);
    h.push({ at: new Date().toISOString(), attempt: job.attempts, leg, outcome, error });
    if (h.length > 30) h.splice(0, h.length - 30);
  }

  /** The leg's order if a previous attempt may have placed it and the exchange has it. */
  private async lookup(r: Run, leg: Leg, symbol: string): Promise<LegRecord | null> {
    if (r.job.legs[leg]) return r.job.legs[leg]!;
    if (r.job.attempts <= 1) return null;
    const cid = this.cid(r, leg);
    const found = await this.call(r, () => (leg === 'protect' ? r.client.findProtective(symbol, cid) : r.client.fetchOrder(symbol, cid)));
    if (found) return this.record(r, leg, found, 'found by clientOrderId');
    this.history(r.job, leg, 'lookup: not on the exchange');
    return null;
  }

  /** Sends the leg's order once; the lease must outlive the request's recvWindow. */
  private async place(r: Run, leg: Leg, req: Omit<OrderRequest, 'clientOrderId'>): Promise<LegRecord> {
    return this.send(r, leg, (cid, signedAt) => r.client.createOrder({ ...req, clientOrderId: cid }, signedAt));
  }

  private async send(r: Run, leg: Leg, f: (cid: string, signedAt: number) => Promise<ExchangeOrder>): Promise<LegRecord> {
    if (r.job.leaseUntil - Date.now() < this.d.recvWindowMs + LEASE_MARGIN_MS) throw new LeaseLost();
    const signedAt = Date.now();
    const order = await this.call(r, () => f(this.cid(r, leg), signedAt));
    return this.record(r, leg, order, 'placed');
  }

  private async open(r: Run): Promise<Outcome> {
    const { job, sub, signal, client } = r;
    const rules = client.rules(job.pair);
    let entry = await this.lookup(r, 'entry', job.pair);
    let ref: Priced | undefined;
    if (!entry) {
      const sizing = parseSizing(sub.sizing);
      if (!sizing) return { status: 'SKIPPED', error: 'SIZING_INVALID: the subscription has no valid sizing', side: 'buy' };
      ref = await this.venuePrice(r, 'buy');
      const prices = this.prices(r, ref);
      if (ref.source === 'venue') {
        const moved = priceMovedRefusal(signal.price, ref.price, sub.maxSlippagePercent);
        if (moved) return { status: 'SKIPPED', error: moved, side: 'buy', price: ref.price, response: prices };
      } else if (!(ref.price > 0 && Number.isFinite(ref.price))) {
        return { status: 'SKIPPED', error: 'PRICE_UNAVAILABLE: no price from the venue and none usable in the signal', side: 'buy', response: prices };
      }
      const risk = parseRisk(sub.risk);
      const free = needsBalance(sizing, risk) ? await this.call(r, () => client.freeBalance(rules.quote)) : undefined;
      const quote = quoteToSpend(sizing, risk, free);
      const amount = client.amountToPrecision(job.pair, quote / ref.price);
      const refusal = minimumsRefusal(amount, ref.price, rules.minAmount, rules.minCost);
      if (refusal) return { status: 'SKIPPED', error: refusal, side: 'buy', amount, price: ref.price, response: prices };
      // Quote-sized where the venue offers it: the venue spends at most `quote` at its own price, so not
      // even a price move between our ticker and the fill can make the subscriber spend more.
      entry = await this.place(r, 'entry', client.quoteSizedBuy(job.pair) ? { symbol: job.pair, side: 'buy', amount, cost: quote } : { symbol: job.pair, side: 'buy', amount });
    }
    const bought = entry.filled;
    // What the account holds: a fee taken from the base received is not there to sell or protect.
    const filled = Math.max(0, bought - (entry.baseFee ?? 0));
    // An order found by a lookup (a previous attempt placed it) without an average: the venue's price now.
    ref ??= entry.average === null && filled > 0 ? await this.venuePrice(r, 'buy').catch(() => undefined) : undefined;
    const avg = entry.average ?? ref?.price ?? signal.price;
    const prices = ref ? this.prices(r, ref) : {};
    const note = this.unverified(ref);
    const opened = (protect: LegRecord | null) => ({ kind: 'open' as const, strategyId: sub.strategyId, qty: filled, price: avg, protectClientOrderId: protect?.clientOrderId ?? null, paper: this.paper });
    const done = { side: 'buy' as const, amount: bought, price: avg, orderId: entry.orderId, ...(note ? { error: note } : {}) };
    const sl = signal.stopLoss;
    const tp = signal.takeProfit;
    if ((sl === null && tp === null) || !(filled > 0)) return { status: 'SUCCESS', ...done, response: { entry: entry.response, ...prices }, position: opened(null) };
    if (client.protectiveOrders === false) {
      // The venue cannot rest a spot stop through ccxt: the strategy's CLOSE (the trade monitor's) is the stop.
      this.history(job, 'protect', NO_EXCHANGE_STOPS);
      return { status: 'SUCCESS', ...done, response: { entry: entry.response, protect: { skipped: NO_EXCHANGE_STOPS }, ...prices }, position: opened(null) };
    }
    try {
      const protect = await this.protect(r, filled, sl, tp);
      return { status: 'SUCCESS', ...done, response: { entry: entry.response, protect: protect.response, ...prices }, position: opened(protect) };
    } catch (err) {
      if (!(err instanceof ExchangeError) || (err.kind === 'temporary' && unclearFailures(job) < this.d.maxAttempts)) throw err;
      if (err.kind === 'auth') await this.markKeysInvalid(job.subscriptionId);
      this.history(job, 'protect', 'failed', err.message);
      const failure = { error: err.message, ccxt: err.ccxtClass, response: err.response };
      return { status: 'PARTIAL', ...done, error: `PROTECT_FAILED: entry filled, ${[sl !== null ? 'stop-loss' : '', tp !== null ? 'take-profit' : ''].filter(Boolean).join(' + ')} order failed: ${err.message}`, response: { entry: entry.response, protect: failure, ...prices }, position: opened(null) };
    }
  }

  /**
   * The protective sell after an entry, of the whole quantity held, in the venue's form (TradingClient.
   * placeProtective; the venue's dialect decides between a market stop, a stop-limit and, for both levels,
   * one OCO list: spot balances allow one resting sell of the quantity, and the list's legs share it).
   * The entry's legs are saved first, so a crash here never re-buys.
   */
  private async protect(r: Run, filled: number, sl: number | null, tp: number | null): Promise<LegRecord> {
    const { job, client } = r;
    if (!job.legs.protect && !(await this.d.store.saveLegs(job))) throw new LeaseLost();
    const found = await this.lookup(r, 'protect', job.pair);
    if (found) return found;
    const req = {
      symbol: job.pair, amount: client.amountToPrecision(job.pair, filled),
      stopLoss: sl !== null ? client.priceToPrecision(job.pair, sl) : null, takeProfit: tp !== null ? client.priceToPrecision(job.pair, tp) : null,
      stopLimitOffsetPercent: this.d.stopLimitOffsetPercent ?? 0.5,
    };
    return this.send(r, 'protect', (clientOrderId, signedAt) => client.placeProtective({ ...req, clientOrderId }, signedAt));
  }

  /**
   * A CLOSE sells what the position holds at the market, whatever the signal's price: an exit is never
   * blocked. The declared price is not used at all (a tiny one must not turn the position into "dust").
   */
  private async close(r: Run): Promise<Outcome> {
    const { job, client } = r;
    const pos = job.data.position;
    if (!pos || !(pos.qty > 0)) return { status: 'SKIPPED', error: `NO_POSITION: the subscription holds no ${job.pair} position to close`, side: 'sell' };
    const rules = client.rules(job.pair);
    if (pos.protectClientOrderId && !job.legs.cancel) await this.cancelProtect(r, pos.protectClientOrderId);
    const byProtect = job.legs.cancel?.filled ?? 0;
    const avgIn = pos.avgPrice;
    let ref: Priced | undefined;
    const refPrice = async () => (ref ??= await this.exitReference(r, avgIn)).price;
    const protectPnl = byProtect > 0 ? ((job.legs.cancel?.average ?? await refPrice()) - avgIn) * byProtect : 0;
    let exit = await this.lookup(r, 'entry', job.pair);
    if (!exit) {
      const price = await refPrice();
      const amount = client.amountToPrecision(job.pair, pos.qty - byProtect);
      const refusal = minimumsRefusal(amount, price, rules.minAmount, rules.minCost);
      const extra = () => ({ ...(ref ? this.prices(r, ref) : {}) });
      if (refusal && byProtect > 0) return { status: 'SUCCESS', side: 'sell', amount: byProtect, price: job.legs.cancel?.average ?? price, realisedPnl: protectPnl, response: { cancel: job.legs.cancel?.response, ...extra() }, position: { kind: 'close' } };
      if (refusal) return { status: 'SKIPPED', error: `${refusal} (position left as dust)`, side: 'sell', amount, price, response: extra(), position: { kind: 'close' } };
      exit = await this.sellHeld(r, amount, price);
    }
    const avgOut = exit.average ?? await refPrice();
    const note = this.unverified(ref);
    return {
      status: 'SUCCESS', side: 'sell', amount: exit.filled, price: avgOut, orderId: exit.orderId,
      realisedPnl: (avgOut - avgIn) * exit.filled + protectPnl, ...(note ? { error: note } : {}),
      response: { exit: exit.response, cancel: job.legs.cancel?.response, ...(ref ? this.prices(r, ref) : {}) }, position: { kind: 'close' },
    };
  }

  /**
   * Sells `amount`; when the venue refuses it for want of balance (a fee taken in the coin, a position
   * recorded before fees were netted, coins moved by hand), sells what the account holds instead: an
   * exit must not fail because the record says a little more than the account has. The refused order was
   * never accepted, so its clientOrderId is still free.
   */
  private async sellHeld(r: Run, amount: number, price: number): Promise<LegRecord> {
    const { job, client } = r;
    try {
      return await this.place(r, 'entry', { symbol: job.pair, side: 'sell', amount });
    } catch (err) {
      if (!(err instanceof ExchangeError && err.ccxtClass === 'InsufficientFunds')) throw err;
      const rules = client.rules(job.pair);
      const free = await this.call(r, () => client.freeBalance(rules.base));
      const held = client.amountToPrecision(job.pair, Math.min(amount, free));
      if (!(held > 0) || held >= amount || minimumsRefusal(held, price, rules.minAmount, rules.minCost)) throw err;
      this.history(job, 'entry', `selling the ${held} the account holds`, err.message.slice(0, 500));
      return this.place(r, 'entry', { symbol: job.pair, side: 'sell', amount: held });
    }
  }

  /** Reference price of an exit: the venue's bid; if the ticker is out of reach, what the position cost (never the signal's word). */
  private async exitReference(r: Run, avgIn: number): Promise<Priced> {
    if (r.paperPrice) return r.paperPrice;
    try {
      return await this.venuePrice(r, 'sell');
    } catch {
      return { price: avgIn, source: 'position' };
    }
  }

  /** What the row records about prices (exchangeResponse): where the reference came from, and the declared price. */
  private prices(r: Run, ref: Priced) {
    return {
      priceSource: ref.source, venuePrice: ref.source === 'venue' ? ref.price : null,
      signalPrice: r.signal.price, maxSlippagePercent: r.sub.maxSlippagePercent,
    };
  }

  /** The user-visible note of a paper fill at the signal's declared price (the venue was out of reach). */
  private unverified(ref: Priced | undefined): string | undefined {
    if (ref?.source !== 'signal') return undefined;
    return `PRICE_UNVERIFIED: paper fill at the signal's declared price ${ref.price}; the venue's price could not be fetched`;
  }

  /** Cancels the resting protective order or list (idempotent) and records what it had filled. */
  private async cancelProtect(r: Run, protectCid: string): Promise<void> {
    const o = await this.call(r, () => r.client.cancelProtective(r.job.pair, protectCid));
    r.job.legs.cancel = { filled: o?.filled ?? 0, average: o?.average ?? null, response: o?.raw ?? null };
    this.history(r.job, 'cancel', o ? `protective order ${o.status}` : 'no protective order on the exchange');
    if (!(await this.d.store.saveLegs(r.job))) throw new LeaseLost();
  }

  /** Stops further attempts for a subscription whose key the exchange refused. */
  async markKeysInvalid(subscriptionId: string): Promise<void> {
    await this.d.keys.markKeysInvalid(subscriptionId);
  }
}

/** The side's price from a venue quote: the ask for a buy, the bid for a sell, else the last trade. */
function pick(q: VenueQuote, side: 'buy' | 'sell'): number | null {
  return (side === 'buy' ? q.ask : q.bid) ?? q.last;
}
