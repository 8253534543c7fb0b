/**
 * What every spot fake (FakeBinance, and FakeMexc / FakeBybit through FakeVenue) offers a test over its
 * Engine: the HTTP server's life, the exchange clock, accounts and balances, markets and prices, and the
 * orders it accepted. The venue's wire format is the subclass's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatUnits, toUnits } from './decimal.js';
import { Engine } from './engine.js';
import { DEFAULT_MARKETS, type MarketSpec } from './markets.js';
import type { Account, DuplicateMode, OrderSnapshot } from './types.js';
import { snapshot } from './views.js';

/** Options every spot fake takes. */
export interface SpotFakeOptions {
  /** Extra markets, or replacements of default ones with the same base/quote. */
  markets?: MarketSpec[];
  /** Serve only `markets`, not BTC/USDT, ETH/USDT, SOL/USDT, ETH/BTC. */
  replaceDefaultMarkets?: boolean;
  /** Server clock minus real clock, ms (to provoke the venue's timestamp error). */
  clockOffsetMs?: number;
  /** Fraction of the received asset charged as commission, default 0. */
  commissionRate?: number | string;
}

export abstract class SpotFake {
  readonly engine: Engine;
  private server: Server | undefined;
  private baseUrl = '';
  private clockOffsetMs: number;

  /** @param duplicateMode the venue's client-id rule, @param options markets, clock, commission */
  constructor(duplicateMode: DuplicateMode, options: SpotFakeOptions = {}) {
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.engine = new Engine(() => this.now());
    this.engine.duplicateMode = duplicateMode;
    this.engine.commissionRate = toUnits(options.commissionRate ?? 0);
    for (const spec of [...(options.replaceDefaultMarkets === true ? [] : DEFAULT_MARKETS), ...(options.markets ?? [])]) {
      this.engine.addMarket(spec);
    }
  }

  /** Serves one HTTP request. */
  protected abstract onRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends the responses a 'placeThenTimeout' hang holds open. */
  protected abstract releaseHeld(): void;

  /** Listens on 127.0.0.1:`port` (0 = any free port); resolves to the origin, e.g. http://127.0.0.1:41234. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /** Stops listening and drops every connection, including held (hung) responses. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.releaseHeld();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** Origin given by start(). */
  get origin(): string {
    return this.baseUrl;
  }

  /** Exchange clock (real clock + offset), ms. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Moves the exchange clock relative to the real one. */
  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms;
  }

  // ---- accounts and markets ------------------------------------------------

  /** Registers an API key with its HMAC secret and free balances, e.g. { USDT: 1000 }. */
  addAccount(apiKey: string, apiSecret: string, balances: Record<string, number | string> = {}): void {
    this.engine.addAccount(apiKey, apiSecret, balances);
  }

  /** Deletes an API key (as if revoked); its requests are then refused as an unknown key. */
  removeAccount(apiKey: string): void {
    this.engine.accounts.delete(apiKey);
  }

  /** Sets the free balance of an asset. */
  setBalance(apiKey: string, asset: string, free: number | string): void {
    this.engine.balance(this.account(apiKey), asset.toUpperCase()).free = toUnits(free);
  }

  /** Balances of an account as decimal strings. */
  balances(apiKey: string): Record<string, { free: string; locked: string }> {
    const out: Record<string, { free: string; locked: string }> = {};
    for (const [asset, b] of this.account(apiKey).balances) {
      out[asset] = { free: formatUnits(b.free), locked: formatUnits(b.locked) };
    }
    return out;
  }

  /** Adds or replaces a market. */
  addMarket(spec: MarketSpec): void {
    this.engine.addMarket(spec);
  }

  /** Sets the last price ('BTC/USDT' or 'BTCUSDT'); resting and stop orders it crosses execute. */
  setPrice(symbol: string, price: number | string): void {
    this.engine.setPrice(symbol, price);
  }

  // ---- recorded orders ------------------------------------------------------

  /** Accepted orders, of one account or all, in acceptance order. */
  orders(apiKey?: string): OrderSnapshot[] {
    const accounts = apiKey === undefined ? [...this.engine.accounts.values()] : [this.account(apiKey)];
    return accounts
      .flatMap((a) => a.orders)
      .sort((a, b) => a.orderId - b.orderId)
      .map(snapshot);
  }

  /** Accepted orders carrying a clientOrderId (optionally of one account). */
  ordersByClientId(clientOrderId: string, apiKey?: string): OrderSnapshot[] {
    return this.orders(apiKey).filter((o) => o.clientOrderId === clientOrderId);
  }

  protected account(apiKey: string): Account {
    const account = this.engine.accounts.get(apiKey);
    if (account === undefined) throw new Error(`no account for API key ${apiKey}`);
    return account;
  }
}
