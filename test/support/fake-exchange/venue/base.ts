/**
 * Venue-neutral HTTP server for the MEXC and Bybit fakes: request counting,
 * fault injection (the same FaultAction set as FakeBinance), a per-second
 * request limiter and held responses, over SpotFake (server life, clock,
 * accounts, prices and orders on the shared matching Engine). A subclass supplies the venue's protocol front-end:
 * how it finds the API key, how it answers a request, and what its
 * rate-limit answer looks like.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultInjector, type FaultAction, type FaultMatch } from '../faults.js';
import { SpotFake, type SpotFakeOptions } from '../spot-fake.js';

/** One HTTP answer. */
export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A request as the venue front-end sees it (raw bytes kept for signatures). */
export interface VenueRequest {
  method: string;
  /** Path with repeated slashes collapsed ('//api/v3/x' → '/api/v3/x'). */
  path: string;
  rawQuery: string;
  rawBody: string;
  headers: IncomingMessage['headers'];
  now: number;
}

/** Options common to FakeMexc and FakeBybit. */
export type FakeVenueOptions = SpotFakeOptions;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Base class of the per-venue fakes; see FakeMexc and FakeBybit. */
export abstract class FakeVenue extends SpotFake {
  protected readonly faults = new FaultInjector();
  private readonly held = new Set<ServerResponse>();
  private readonly requestCounts = new Map<string, number>();
  private readonly unhandled: string[] = [];
  /** "METHOD /path" → allowed requests per second per API key (or per IP when unsigned). */
  private readonly limits = new Map<string, number>();
  private readonly windows = new Map<string, { second: number; used: number }>();

  /** API key named by the request's venue-specific header, if any. */
  protected abstract apiKeyOf(headers: IncomingMessage['headers']): string | undefined;
  /** Answers a request; undefined = no such endpoint (404 HTML). */
  protected abstract answer(req: VenueRequest): Reply | undefined;
  /** The venue's answer when a rate limit is exceeded. */
  protected abstract rateLimitReply(retryAfterSec: number): Reply;

  // ---- faults and limits ------------------------------------------------------

  /**
   * Installs a fault (see FaultAction in ../faults.ts). 'rateLimit' answers with
   * the venue's own rate-limit reply; 'respond' / 'processThenRespond' send the
   * given status and body; 'placeThenTimeout' executes, then hangs or resets.
   */
  injectFault(action: FaultAction, match: FaultMatch = {}): number {
    return this.faults.add(action, match);
  }

  /** Removes one fault. */
  removeFault(id: number): void {
    this.faults.remove(id);
  }

  /** Removes all faults and request limits. */
  clearFaults(): void {
    this.faults.clear();
    this.limits.clear();
    this.windows.clear();
  }

  /** Allows `perSecond` requests per second per API key on "METHOD /path"; more get the venue's rate-limit reply. */
  setRequestLimit(method: string, path: string, perSecond: number): void {
    this.limits.set(`${method.toUpperCase()} ${path}`, perSecond);
  }

  /** Requests seen for a path, optionally of one method. */
  requestCount(path: string, method?: string): number {
    let total = 0;
    for (const [key, count] of this.requestCounts) {
      const [m, p] = key.split(' ');
      if (p === path && (method === undefined || m === method.toUpperCase())) total += count;
    }
    return total;
  }

  /** Zeroes request counters. */
  resetCounters(): void {
    this.requestCounts.clear();
    this.unhandled.length = 0;
  }

  /** "METHOD /path" of requests to endpoints the fake does not serve. */
  unhandledRequests(): string[] {
    return [...this.unhandled];
  }

  /** Responses currently held open by a 'placeThenTimeout' hang. */
  heldResponses(): number {
    return this.held.size;
  }

  protected releaseHeld(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  // ---- HTTP -------------------------------------------------------------------

  protected async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.handle(req, res);
    } catch (error) {
      this.send(res, { status: 500, body: `fake venue crashed: ${String(error)}`, headers: { 'content-type': 'text/plain' } });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = (req.url ?? '/').replace(/^\/+/, '/');
    const url = new URL(rawUrl, 'http://fake');
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);
    const key = `${method} ${path}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    const apiKey = this.apiKeyOf(req.headers);
    const plan = this.faults.plan({ method, path, apiKey });
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    const fault = plan.terminal;
    if (fault?.kind === 'respond') {
      return this.send(res, { status: fault.status, body: text(fault.body), headers: fault.headers });
    }
    if (fault?.kind === 'rateLimit') return this.send(res, this.rateLimitReply(fault.retryAfterSec ?? 1));
    const limited = this.overLimit(key, apiKey ?? req.socket.remoteAddress ?? 'ip');
    if (limited !== undefined) return this.send(res, this.rateLimitReply(limited));
    const request: VenueRequest = { method, path, rawQuery: url.search.slice(1), rawBody, headers: req.headers, now: this.now() };
    const reply = this.answer(request);
    if (reply === undefined) this.unhandled.push(key);
    if (fault?.kind === 'placeThenTimeout') return this.withhold(req, res, fault.how ?? 'hang');
    if (fault?.kind === 'processThenRespond') return this.send(res, { status: fault.status, body: text(fault.body) });
    this.send(res, reply ?? { status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>', headers: { 'content-type': 'text/html' } });
  }

  /** Seconds until the window resets when over the limit, else undefined. */
  private overLimit(key: string, who: string): number | undefined {
    const limit = this.limits.get(key);
    if (limit === undefined) return undefined;
    const second = Math.floor(this.now() / 1000);
    const id = `${key} ${who}`;
    const window = this.windows.get(id);
    const current = window !== undefined && window.second === second ? window : { second, used: 0 };
    current.used += 1;
    this.windows.set(id, current);
    return current.used > limit ? 1 : undefined;
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(reply.status, { 'content-type': 'application/json;charset=UTF-8', ...reply.headers });
    res.end(reply.body);
  }

  private withhold(req: IncomingMessage, res: ServerResponse, how: 'hang' | 'destroy'): void {
    if (how === 'destroy') {
      req.socket.destroy();
      return;
    }
    this.held.add(res);
    res.on('close', () => this.held.delete(res));
  }
}

function text(body: string | object | undefined): string {
  if (body === undefined) return 'Service Unavailable.';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Query-string parameters (later keys win). */
export function queryParams(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  return out;
}

/** Number of decimals of a step such as 0.001 (3). */
export function decimalsOf(step: bigint): number {
  let digits = 0;
  let unit = 10n ** 18n;
  while (unit > step && digits < 18) {
    unit /= 10n;
    digits += 1;
  }
  return digits;
}
