/**
 * "Test keys": asks the exchange for the account balance (ccxt fetchBalance through the exchange
 * module) with a subscription's stored keys and says plainly whether they work. The keys are
 * decrypted only for the call and never leave this function.
 */
import { ExchangeClients, ExchangeError } from '../exchange/index.js';

/** The answer shown to the user. */
export interface KeyCheckResult {
  ok: boolean;
  /** EXCHANGE_AUTH (keys refused), EXCHANGE_TEMPORARY (could not tell), EXCHANGE_REJECTED; absent when ok. */
  code?: string;
  message: string;
  /** Free balance of the quote asset checked (USDT), when ok. */
  free?: number;
}

export class KeyChecker {
  private readonly clients: ExchangeClients;

  constructor(opts: { exchangeUrls: Readonly<Record<string, string>>; timeoutMs: number; recvWindowMs: number }) {
    this.clients = new ExchangeClients({ exchangeUrls: opts.exchangeUrls, timeoutMs: opts.timeoutMs, recvWindowMs: opts.recvWindowMs });
  }

  /** Calls fetchBalance with the keys; never throws for exchange failures (they become the answer). */
  async check(exchange: string, apiKey: string, secret: string, asset = 'USDT'): Promise<KeyCheckResult> {
    try {
      await this.clients.ensureMarkets(exchange);
      const free = await this.clients.forKey(exchange, apiKey, secret).freeBalance(asset);
      return { ok: true, free, message: `The keys work: ${exchange} returned your balance (${free} ${asset} free).` };
    } catch (err) {
      if (!(err instanceof ExchangeError)) throw err;
      if (err.kind === 'auth') return { ok: false, code: err.code, message: `The keys do NOT work: ${exchange} refused them (${err.message.slice(0, 200)}).` };
      return { ok: false, code: err.code, message: `Could not check the keys: ${exchange} did not answer properly (${err.message.slice(0, 200)}). Try again later.` };
    }
  }
}
