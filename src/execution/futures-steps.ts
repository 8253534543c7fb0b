/**
 * The steps every futures order goes through, shared by the OPEN (futures-runner.ts) and the CLOSE
 * (futures-close.ts): the key's throttle, exchange time accounting, the leg record (an order recorded in a
 * leg is never sent again), the lookup by our client id before any order of a row claimed before
 * (attempts > 1: an earlier attempt may have reached the exchange), and the lease check before sending.
 */
import { ExchangeError, type FuturesAccounts, type FuturesOrder } from '../exchange/index.js';
import type { RunnerBaseDeps } from './deps.js';
import type { FuturesVenue } from './futures-venue.js';
import { clientOrderId, type Leg } from './ids.js';
import type { RunTiming } from './runner.js';
import { LeaseLost, type Job, type JobData, type LegRecord } from './types.js';
import type { VenuePrices } from './venue-price.js';

export interface FuturesRunnerDeps extends RunnerBaseDeps {
  /** Futures accounts of many keys over one ccxt instance per venue ('order' traffic). */
  accounts: FuturesAccounts;
  /** Mark prices of the perpetuals (public), shared by the jobs of one signal. */
  prices: VenuePrices;
}

export type Sub = NonNullable<JobData['sub']>;
export type Sig = NonNullable<JobData['signal']>;
/** A reference price and where it came from (see the spot runner). */
export interface Priced { price: number; source: 'venue' | 'signal' | 'position' }
/** One futures run: the job, the venue account, the perpetual's symbol. */
export interface FRun { job: Job; sub: Sub; signal: Sig; venue: FuturesVenue; symbol: string; scope: string; rps: number; timing: RunTiming; paperPrice?: Priced }

const LEASE_MARGIN_MS = 1000;
/** How long after an order answer without a fill it is looked up for its fill (ms), and how often. */
const CONFIRM_MS = 2000;
const CONFIRM_EVERY_MS = 150;

type Lookup = 'order' | 'protective';
const LOOKUP: Record<'entry' | 'sl' | 'tp', Lookup> = { entry: 'order', sl: 'protective', tp: 'protective' };

export class FuturesSteps {
  constructor(protected readonly d: FuturesRunnerDeps) {}

  get paper() { return this.d.mode === 'paper'; }

  /** An exchange call of the subscriber's key: throttled, counted as exchange time. */
  async call<T>(r: FRun, f: () => Promise<T>): Promise<T> {
    if (r.rps) await this.d.throttle.acquire(r.scope, r.rps);
    return this.timed(r.timing, f);
  }

  async timed<T>(timing: RunTiming, f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    timing.firstCallAt ??= t;
    try { return await f(); } finally { timing.exchangeMs += performance.now() - t; }
  }

  /** The perpetual's mark price now (public, shared by the jobs of one signal). */
  async reference(r: FRun): Promise<Priced> {
    if (r.paperPrice) return r.paperPrice;
    const q = await this.timed(r.timing, () => this.d.prices.get(r.job.exchange, r.symbol, r.signal.acceptedAt));
    const price = q.last ?? q.ask ?? q.bid;
    if (price === null) throw new ExchangeError('temporary', `${r.job.exchange} gave no mark price for ${r.symbol}`, 'NoPrice');
    return { price, source: 'venue' };
  }

  cid(r: FRun, leg: Leg): string {
    return leg === 'entry' ? r.job.clientOrderId : clientOrderId(r.job.signalId, r.job.subscriptionId, leg);
  }

  history(job: Job, leg: string | undefined, outcome: string, error?: string): void {
    const h = (job.legs.history ??= []);
    h.push({ at: new Date().toISOString(), attempt: job.attempts, leg, outcome, error });
    if (h.length > 30) h.splice(0, h.length - 30);
  }

  record(r: FRun, leg: 'entry' | 'sl' | 'tp', o: FuturesOrder, how: string): LegRecord {
    const rec: LegRecord = { orderId: o.fillOrderId || o.id, clientOrderId: o.clientOrderId || this.cid(r, leg), status: o.status, filled: o.filled, average: o.average, ...(o.fee !== null ? { fee: o.fee } : {}), response: o.raw };
    r.job.legs[leg] = rec;
    this.history(r.job, leg, how);
    return rec;
  }

  /** The leg's order if a previous attempt may have placed it and the exchange has it. */
  async lookup(r: FRun, leg: 'entry' | 'sl' | 'tp'): Promise<LegRecord | null> {
    if (r.job.legs[leg]) return r.job.legs[leg]!;
    if (r.job.attempts <= 1) return null;
    const cid = this.cid(r, leg);
    const found = await this.call(r, () => (LOOKUP[leg] === 'protective' ? r.venue.findProtective(r.symbol, cid) : r.venue.findOrder(r.symbol, cid)));
    if (found) return this.record(r, leg, found, 'found by clientOrderId');
    this.history(r.job, leg, 'lookup: not on the exchange');
    return null;
  }

  /** Sends the leg's order once (null: the venue had nothing to do, e.g. nothing to reduce); the lease must outlive the recvWindow. */
  async send(r: FRun, leg: 'entry' | 'sl' | 'tp', f: (cid: string) => Promise<FuturesOrder | null>): Promise<LegRecord | null> {
    if (r.job.leaseUntil - Date.now() < this.d.recvWindowMs + LEASE_MARGIN_MS) throw new LeaseLost();
    const order = await this.call(r, () => f(this.cid(r, leg)));
    return order ? this.record(r, leg, order, 'placed') : null;
  }

  /**
   * A market order whose answer carried no fill (a venue that answers before the match) is
   * looked up by its client id until it shows one; still none → temporary (the retry looks it up again).
   */
  async confirmFill(r: FRun, leg: 'entry', rec: LegRecord): Promise<LegRecord> {
    if (rec.filled > 0 || this.paper) return rec;
    const end = Date.now() + CONFIRM_MS;
    for (;;) {
      const o = await this.call(r, () => r.venue.findOrder(r.symbol, rec.clientOrderId));
      if (o && (o.filled > 0 || (o.status !== 'open' && o.status !== ''))) return this.record(r, leg, o, 'fill confirmed');
      if (Date.now() > end) throw new ExchangeError('temporary', `order ${rec.clientOrderId} shows no fill yet`, 'FillNotConfirmed');
      await new Promise((res) => setTimeout(res, CONFIRM_EVERY_MS));
    }
  }

  /** Persists the legs before the next order: a crash after this point never re-sends what they hold. */
  async saveLegs(job: Job): Promise<void> {
    if (!(await this.d.store.saveLegs(job))) throw new LeaseLost();
  }

  async markKeysInvalid(subscriptionId: string): Promise<void> {
    await this.d.keys.markKeysInvalid(subscriptionId);
  }
}
