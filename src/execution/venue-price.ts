/**
 * VenuePrices: the executor's view of a venue's current price of one market, from the venue's own
 * public ticker (never from the signal). One request at a time per (exchange, market): the jobs of one
 * signal fanning out to many subscriptions share it, and a quote younger than `maxAgeMs` is reused, so
 * a signal to 1,000 subscribers costs a handful of ticker requests, not 1,000. A quote asked for before
 * the signal was accepted (`notBefore`) is never used for it: the price must be the one after the signal.
 *
 * Paper mode also bounds the wait (`waitMs`) and remembers a failure for `failureMemoryMs`: offline (the
 * quick start without network) every paper job would otherwise wait for a network timeout. A request
 * that outlives the wait keeps running; when it succeeds, the next job gets its price at once.
 */
import { ExchangeError } from '../exchange/index.js';
import type { VenueQuote } from '../exchange/index.js';

export type { VenueQuote };

export interface VenuePriceOptions {
  /** A quote at most this old (ms) is reused. */
  maxAgeMs: number;
  /** How long (ms) a failed lookup is remembered (answered at once with the same failure); 0 = not at all. */
  failureMemoryMs: number;
  /** Longest wait (ms) for a lookup in progress; undefined = until the request itself ends. */
  waitMs?: number;
}

/** `quote.at` is when its request was sent (conservative: the price is at least that fresh). */
interface Entry { quote?: VenueQuote; pending?: { p: Promise<VenueQuote>; sentAt: number } }

/** Entries kept at most (pairs × exchanges in use is small; this only bounds a pathological spread). */
const MAX_ENTRIES = 10_000;

export class VenuePrices {
  private readonly entries = new Map<string, Entry>();
  /** Remembered failures: key = exchange (unreachable venue) or exchange|symbol (that market only). */
  private readonly failures = new Map<string, { until: number; err: unknown }>();

  constructor(private readonly fetch: (exchange: string, symbol: string) => Promise<VenueQuote>, private readonly opts: VenuePriceOptions) {}

  /**
   * The venue's quote of `symbol`: asked for at or after `notBefore` (epoch ms) and at most maxAgeMs ago.
   * Throws ExchangeError (or the fetch's error).
   */
  async get(exchange: string, symbol: string, notBefore = 0): Promise<VenueQuote> {
    const key = `${exchange}|${symbol}`;
    let e = this.entries.get(key);
    const fresh = (at: number) => at >= notBefore && Date.now() - at <= this.opts.maxAgeMs;
    if (e?.quote && fresh(e.quote.at)) return e.quote;
    const remembered = this.remembered(exchange, key);
    if (remembered) throw remembered;
    if (!e) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      e = {};
      this.entries.set(key, e);
    }
    const entry = e;
    if (!entry.pending || !fresh(entry.pending.sentAt)) {
      const sentAt = Date.now();
      const pending = {
        sentAt,
        p: this.fetch(exchange, symbol).then((q) => {
          if (!entry.quote || entry.quote.at <= sentAt) entry.quote = { ...q, at: sentAt };
          this.failures.delete(exchange);
          this.failures.delete(key);
          return { ...q, at: sentAt };
        }, (err) => {
          this.remember(exchange, key, err);
          throw err;
        }).finally(() => { if (entry.pending === pending) entry.pending = undefined; }),
      };
      entry.pending = pending;
    }
    if (this.opts.waitMs === undefined) return entry.pending.p;
    return this.bounded(entry.pending.p, this.opts.waitMs, exchange, key);
  }

  private remembered(exchange: string, key: string): unknown {
    const now = Date.now();
    for (const k of [exchange, key]) {
      const f = this.failures.get(k);
      if (f && f.until > now) return f.err;
      if (f) this.failures.delete(k);
    }
    return undefined;
  }

  private remember(exchange: string, key: string, err: unknown): void {
    if (!(this.opts.failureMemoryMs > 0)) return;
    // An unreachable venue fails every market alike; a refusal (unknown market) concerns that market only.
    const scope = err instanceof ExchangeError && err.kind !== 'temporary' ? key : exchange;
    this.failures.set(scope, { until: Date.now() + this.opts.failureMemoryMs, err });
  }

  private bounded(p: Promise<VenueQuote>, ms: number, exchange: string, key: string): Promise<VenueQuote> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new ExchangeError('temporary', `no price from ${exchange} within ${ms} ms`, 'RequestTimeout');
        this.remember(exchange, key, err);
        reject(err);
      }, ms);
      timer.unref?.();
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }
}
