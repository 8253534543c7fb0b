/**
 * FuturesRunner: executes one claimed intent of a futures subscription (USDT-margined linear perpetuals).
 * OPEN LONG buys, OPEN SHORT sells: refusals (status, close-only, daily loss, a position already held: never
 * stacked) → the perpetual of the pair → the venue's mark price → PRICE_MOVED → margin (the subscription's
 * sizing, against the account's free margin) × leverage = notional → contract precision and minimums →
 * the leverage the venue's bracket allows for that notional (above the subscription's → SKIPPED, never a
 * lower or higher one) → initial margin + fee reserve above the free margin → SKIPPED, nothing sent →
 * margin mode and leverage set idempotently (once per key and symbol) → the market entry (hedge-mode accounts
 * get the venue's position side) → legs saved → stop-loss and take-profit, each a reduce-only conditional
 * market order of the filled quantity under its own deterministic client id. A refused protective order
 * makes the row PARTIAL with the venue's answer; the entry and the Position are recorded all the same, so a
 * repeat can neither re-send the entry nor stack a second position.
 * CLOSE: futures-close.ts. Exactly once as in the spot runner: before any order of a row claimed before,
 * the order is looked up by its client id; a found order is recorded, never re-sent.
 * Throws ExchangeError (the executor decides: retry / fail / mark keys) or LeaseLost.
 */
import { ExchangeError, type FuturesMarginMode, type FuturesOrder, type PositionSide } from '../exchange/index.js';
import { closeFutures } from './futures-close.js';
import { FuturesSteps, type FRun, type Priced, type Sig, type Sub } from './futures-steps.js';
import { PaperFutures } from './futures-venue.js';
import { keyScope } from './ids.js';
import { entryRefusal } from './refusals.js';
import { openKeys } from './deps.js';
import type { RunTiming } from './runner.js';
import { minimumsRefusal, parseRisk, parseSizing, priceMovedRefusal, quoteToSpend } from './sizing.js';
import { unclearFailures, type FuturesOpen, type Job, type LegRecord, type Outcome } from './types.js';

export { type FuturesRunnerDeps } from './futures-steps.js';

/** Taker fee reserve on top of the initial margin when comparing with the free margin (0.1 % of the notional). */
const FEE_RESERVE = 0.001;
/** Clock skew allowed when asking the venue for the entry's fills (ms). */
const SINCE_MARGIN_MS = 60_000;
const LEVELS = [['sl', 'stopLoss', 'stop-loss'], ['tp', 'takeProfit', 'take-profit']] as const;

export class FuturesRunner extends FuturesSteps {
  /** Runs the job; `timing.exchangeMs` reports the time spent in exchange calls. */
  async run(job: Job, timing: RunTiming): Promise<Outcome> {
    const { sub, signal } = job.data;
    const side = signal?.direction === 'SHORT' ? 'sell' as const : 'buy' as const;
    if (!sub || !signal) return { status: 'FAILED', error: 'NOT_FOUND: subscription or signal no longer exists' };
    if (sub.keysInvalid && !job.legs.entry) return { status: 'SKIPPED', error: 'KEYS_INVALID: the exchange refused this subscription\'s API key; store new keys' };
    if (signal.action === 'OPEN' && !job.legs.entry) {
      const refusal = entryRefusal(job, sub, { shorts: true });
      if (refusal) return { status: 'SKIPPED', error: refusal, side };
    }
    const run = await this.prepare(job, sub, signal, timing);
    if ('status' in run) return run;
    return signal.action === 'OPEN' ? this.open(run) : closeFutures(this, run);
  }

  /** The venue account (decrypting the keys in live mode; the paper venue at the reference price in paper mode). */
  private async prepare(job: Job, sub: Sub, signal: Sig, timing: RunTiming): Promise<FRun | Outcome> {
    if (this.paper) {
      const venue = new PaperFutures(0, this.d.paperBalance);
      const symbol = venue.market.symbolOf(job.pair);
      const paperPrice = await this.paperReference(job, symbol, signal, timing);
      return { job, sub, signal, venue: new PaperFutures(paperPrice.price, this.d.paperBalance), symbol, scope: '', rps: 0, timing, paperPrice };
    }
    const { apiKey, secret } = openKeys(this.d.keys, sub);
    await this.timed(timing, () => this.d.accounts.ensureMarkets(job.exchange));
    const venue = this.d.accounts.forKey(job.exchange, apiKey, secret);
    const symbol = venue.market.symbolOf(job.pair);
    if (!symbol) return { status: 'SKIPPED', error: `SYMBOL_NOT_LISTED: ${job.exchange} lists no USDT perpetual for ${job.pair}`, side: 'buy' };
    const rps = Math.max(1, Math.floor(1000 / Math.max(1, this.d.accounts.minIntervalMs(job.exchange))));
    return { job, sub, signal, venue, symbol, scope: keyScope(job.exchange, apiKey), rps, timing };
  }

  private async paperReference(job: Job, symbol: string, signal: Sig, timing: RunTiming): Promise<Priced> {
    try {
      const q = await this.timed(timing, () => this.d.prices.get(job.exchange, symbol, signal.acceptedAt));
      if (q.last !== null) return { price: q.last, source: 'venue' };
    } catch { /* out of reach (offline quick start): the signal's price, said so on the row */ }
    return { price: signal.price, source: 'signal' };
  }

  private async open(r: FRun): Promise<Outcome> {
    const { job, sub, signal, venue, symbol } = r;
    const side: PositionSide = signal.direction === 'SHORT' ? 'short' : 'long';
    const orderSide = side === 'long' ? 'buy' as const : 'sell' as const;
    let entry = await this.lookup(r, 'entry');
    let ref: Priced | undefined;
    if (!entry) {
      const sizing = parseSizing(sub.sizing);
      if (!sizing) return { status: 'SKIPPED', error: 'SIZING_INVALID: the subscription has no valid sizing', side: orderSide };
      ref = await this.reference(r);
      const prices = this.prices(r, ref);
      const moved = ref.source === 'venue' ? priceMovedRefusal(signal.price, ref.price, sub.maxSlippagePercent) : null;
      if (moved) return { status: 'SKIPPED', error: moved, side: orderSide, price: ref.price, response: prices };
      const rules = venue.market.rules(symbol);
      const free = await this.call(r, () => venue.market.freeMargin(rules.settle));
      const leverage = sub.leverage;
      const margin = quoteToSpend(sizing, parseRisk(sub.risk), free);
      const amount = venue.market.amountToPrecision(symbol, (margin * leverage) / ref.price);
      const skip = (error: string) => ({ status: 'SKIPPED' as const, error, side: orderSide, amount, price: ref!.price, response: { ...prices, freeMargin: free, margin, leverage } });
      const below = minimumsRefusal(amount, ref.price, rules.minAmount, rules.minCost);
      if (below) return skip(below);
      const notional = amount * ref.price;
      const allowed = await this.call(r, () => venue.market.maxLeverage(symbol, notional));
      if (allowed !== null && leverage > allowed) return skip(`LEVERAGE_ABOVE_BRACKET: leverage ${leverage}x is above the ${allowed}x ${r.job.exchange} allows for a ${notional.toFixed(2)} ${rules.settle} position on ${symbol}`);
      const need = notional / leverage + notional * FEE_RESERVE;
      if (need > free) return skip(`INSUFFICIENT_MARGIN: initial margin ${(notional / leverage).toFixed(2)} ${rules.settle} + fee reserve ${(notional * FEE_RESERVE).toFixed(2)} exceeds the free margin ${free.toFixed(2)}`);
      await this.call(r, () => venue.ensureLeverageAndMargin(symbol, leverage, sub.marginMode as FuturesMarginMode));
      entry = await this.send(r, 'entry', (cid) => venue.openPosition(symbol, side, amount, cid));
      entry = await this.confirmFill(r, 'entry', entry!);
    }
    if (!(entry.filled > 0)) return { status: 'FAILED', error: `ENTRY_NOT_FILLED: the ${orderSide} order ${entry.clientOrderId} ended ${entry.status} without a fill`, side: orderSide, orderId: entry.orderId, response: { entry: entry.response } };
    const avg = entry.average ?? ref?.price ?? signal.price;
    const done = { side: orderSide, amount: entry.filled, price: avg, orderId: entry.orderId, ...(ref?.source === 'signal' ? { error: `PRICE_UNVERIFIED: paper fill at the signal's declared price ${ref.price}; the venue's price could not be fetched` } : {}) };
    const failures = await this.protect(r, side, entry.filled);
    const entryFee = entry.fee ?? (await this.feeOf(r, entry));
    const legs = job.legs;
    const position = {
      kind: 'open' as const, strategyId: sub.strategyId, qty: entry.filled, price: avg, protectClientOrderId: null, paper: this.paper,
      futures: {
        side, slClientOrderId: legs.sl?.clientOrderId ?? null, tpClientOrderId: legs.tp?.clientOrderId ?? null, stopLoss: signal.stopLoss, takeProfit: signal.takeProfit,
        leverage: sub.leverage, marginMode: sub.marginMode, entryFee,
      } satisfies FuturesOpen,
    };
    const response = { entry: entry.response, sl: legs.sl?.response ?? failures.sl, tp: legs.tp?.response ?? failures.tp, ...(ref ? this.prices(r, ref) : {}) };
    const failed = LEVELS.filter(([leg]) => failures[leg]).map(([leg, , name]) => `${name} order failed: ${failures[leg]!.error}`);
    if (!failed.length) return { status: 'SUCCESS', ...done, response, position };
    return { status: 'PARTIAL', ...done, error: `PROTECT_FAILED: entry filled (${entry.filled} ${job.pair} ${side}, position recorded), ${failed.join('; ')}`, response, position };
  }

  /**
   * Rests the signal's stop-loss and take-profit as reduce-only conditional orders of the filled quantity.
   * The entry's legs are saved meanwhile (a crash here never re-enters). A refusal of one is recorded and the
   * other is still placed; an unclear failure is retried (looked up first) until maxAttempts.
   */
  private async protect(r: FRun, side: PositionSide, filled: number): Promise<Partial<Record<'sl' | 'tp', { error: string; ccxt?: string; response?: unknown }>>> {
    const { job, signal, venue, symbol } = r;
    const failures: Partial<Record<'sl' | 'tp', { error: string; ccxt?: string; response?: unknown }>> = {};
    const wanted = LEVELS.filter(([leg, key]) => signal[key] !== null && !job.legs[leg]);
    if (!wanted.length) return failures;
    // The entry's legs are written while the protective orders go out (the write is off the critical path):
    // a crash before it commits is covered by the lookups by client id of the next attempt.
    const saved = this.saveLegs({ ...job, legs: structuredClone(job.legs) });
    saved.catch(() => {});
    const amount = venue.market.amountToPrecision(symbol, filled);
    for (const [leg, kind] of wanted) {
      try {
        if (await this.lookup(r, leg)) continue;
        const triggerPrice = venue.market.priceToPrecision(symbol, signal[kind]!);
        await this.send(r, leg, (clientOrderId) => venue.placeProtective({ symbol, positionSide: side, kind, triggerPrice, amount, clientOrderId }));
      } catch (err) {
        if (!(err instanceof ExchangeError) || (err.kind === 'temporary' && unclearFailures(job) < this.d.maxAttempts)) throw err;
        if (err.kind === 'auth') await this.markKeysInvalid(job.subscriptionId);
        this.history(job, leg, 'failed', err.message);
        failures[leg] = { error: err.message, ccxt: err.ccxtClass, response: err.response };
      }
    }
    await saved;
    return failures;
  }

  /**
   * The entry's fee where its order answer carried none: the venue's realised PnL of an opening fill is
   * minus its commission. Asked after the protective orders rest; unknown (null) when the venue does not say.
   */
  private async feeOf(r: FRun, entry: LegRecord): Promise<number | null> {
    if (this.paper) return null;
    const order = { id: entry.orderId, fillOrderId: entry.orderId, filled: entry.filled } as FuturesOrder;
    const pnl = await this.call(r, () => r.venue.realisedPnl(r.symbol, order, r.job.claimedAt - SINCE_MARGIN_MS)).catch(() => null);
    return pnl === null ? null : Math.max(0, -pnl);
  }

  /** What the row records about prices (exchangeResponse): where the reference came from, and the declared price. */
  prices(r: FRun, ref: Priced) {
    return { priceSource: ref.source, venuePrice: ref.source === 'venue' ? ref.price : null, signalPrice: r.signal.price, maxSlippagePercent: r.sub.maxSlippagePercent };
  }
}

