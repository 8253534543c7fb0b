/**
 * PairInterest: the pairs the price feed polls besides those with watched trades, so a signal's price can
 * be checked at acceptance from memory. A pair is interesting for `ttlMs` after its last signal (or
 * request for a price); at most `max` pairs are kept, the least recently noted dropped first, so a flood
 * of signals on many pairs cannot grow the poll without bound.
 */
export class PairInterest {
  /** pair → when it was last noted; Map order is least recently noted first. */
  private readonly noted = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly max: number) {}

  get size(): number { return this.noted.size; }

  /** Notes interest in `pair` now. */
  add(pair: string, now = Date.now()): void {
    this.noted.delete(pair);
    this.noted.set(pair, now);
    if (this.noted.size > this.max) this.noted.delete(this.noted.keys().next().value!);
  }

  has(pair: string): boolean { return this.noted.has(pair); }

  /** Forgets `pair` (e.g. the exchange does not list it). */
  delete(pair: string): void { this.noted.delete(pair); }

  /** The pairs still of interest (expired ones are dropped). */
  pairs(now = Date.now()): string[] {
    for (const [pair, at] of this.noted) {
      if (now - at <= this.ttlMs) break; // in noted order: the rest are newer
      this.noted.delete(pair);
    }
    return [...this.noted.keys()];
  }
}
