/**
 * "Test keys": asks the exchange for the account balance (ccxt fetchBalance through the exchange
 * module) with a subscription's stored keys and says plainly whether they work. The route hands it the
 * keys opened by SubscriptionRepository.openKeys for this one call; they never leave it.
 * Every call spends the venue's shared request budget as non-order traffic (it can never use what
 * orders need) and passes the same per-key throttle as the executor's orders for that account.
 * Its ccxt instance is its own (this may run in an api process without an executor), tagged 'other'.
 */
import { createKeyThrottle, ExchangeBusy, ExchangeClients, ExchangeError, keyScope, perKeyRate, type KeyThrottle, type VenueBudget } from '../exchange/index.js';

/** The answer shown to the user. */
export interface KeyCheckResult {
  ok: boolean;
  /**
   * EXCHANGE_AUTH (keys refused), EXCHANGE_TEMPORARY (could not tell), EXCHANGE_REJECTED, EXCHANGE_BUSY
   * (not asked: the server is holding back non-order requests to this exchange); absent when ok.
   */
  code?: string;
  message: string;
  /** Free balance of the quote asset checked (USDT), when ok. */
  free?: number;
  /** With EXCHANGE_BUSY: when asking again can work. */
  retryAfterSeconds?: number;
}

export class KeyChecker {
  private readonly clients: ExchangeClients;
  private readonly throttle: KeyThrottle;

  /**
   * @param opts.budget the app's per-venue request budget (AppContext.exchangeBudget)
   * @param opts.throttle the executor's per-key throttle (same Redis prefix), so tests and orders of one
   *   account share its per-second allowance; default: this process's throttle for an empty prefix
   */
  constructor(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs: number; recvWindowMs: number; budget?: VenueBudget; throttle?: KeyThrottle }) {
    this.clients = new ExchangeClients({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, recvWindowMs: opts.recvWindowMs, budget: opts.budget, traffic: 'other' });
    this.throttle = opts.throttle ?? createKeyThrottle(undefined, '');
  }

  /** Calls fetchBalance with the keys; never throws for exchange failures (they become the answer). */
  async check(exchange: string, apiKey: string, secret: string, asset = 'USDT'): Promise<KeyCheckResult> {
    try {
      await this.clients.ensureMarkets(exchange);
      const client = this.clients.forKey(exchange, apiKey, secret);
      await this.throttle.acquire(keyScope(exchange, apiKey), perKeyRate(client.minIntervalMs));
      const free = await client.freeBalance(asset);
      return { ok: true, free, message: `The keys work: ${exchange} returned your balance (${free} ${asset} free).` };
    } catch (err) {
      const busy = err instanceof ExchangeBusy ? err : (err as { cause?: unknown })?.cause instanceof ExchangeBusy ? (err as { cause: ExchangeBusy }).cause : undefined;
      if (busy) {
        const retryAfterSeconds = Math.max(1, Math.ceil(busy.retryAfterMs / 1000));
        return {
          ok: false, code: 'EXCHANGE_BUSY', retryAfterSeconds,
          message: `Could not check the keys now: the server is holding back its requests to ${exchange} so that orders keep their share of the exchange's rate limit. Try again in ${retryAfterSeconds} s.`,
        };
      }
      if (!(err instanceof ExchangeError)) throw err;
      if (err.kind === 'auth') return { ok: false, code: err.code, message: `The keys do NOT work: ${exchange} refused them (${err.message.slice(0, 200)}).` };
      return { ok: false, code: err.code, message: `Could not check the keys: ${exchange} did not answer properly (${err.message.slice(0, 200)}). Try again later.` };
    }
  }
}
