/**
 * Request pipeline of the fake exchange: counting, fault injection, request
 * weight, authentication, routing, and Binance-shaped responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './auth.js';
import { BinanceError, Errors } from './errors.js';
import { FaultInjector } from './faults.js';
import { buildRoutes, toBinanceError, type ExchangeState, type Route } from './routes.js';
import type { Params } from './types.js';

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const JSON_HEADERS = { 'content-type': 'application/json;charset=UTF-8' };
const NOT_FOUND = '<html><body><h1>404 Not Found</h1></body></html>';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function paramsOf(rawQuery: string, rawBody: string): Params {
  const params: Params = {};
  for (const source of [rawQuery, rawBody]) {
    for (const [key, value] of new URLSearchParams(source)) params[key] = value;
  }
  return params;
}

function bodyText(body: string | object | undefined): string {
  if (body === undefined) return 'Service Unavailable.';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Handles every HTTP request of a FakeBinance; owns counters, faults and held responses. */
export class Pipeline {
  readonly faults = new FaultInjector();
  readonly held = new Set<ServerResponse>();
  readonly requestCounts = new Map<string, number>();
  readonly unhandled: string[] = [];
  weightLimit = 6000;
  private weightWindow = { minute: 0, used: 0 };
  private readonly routes: Map<string, Route>;

  /** @param state exchange state shared with the control API */
  constructor(private readonly state: ExchangeState) {
    this.routes = buildRoutes(state);
  }

  /** REQUEST_WEIGHT used in the current minute. */
  usedWeight(): number {
    const minute = Math.floor(this.state.now() / 60_000);
    return this.weightWindow.minute === minute ? this.weightWindow.used : 0;
  }

  /** Zeroes request counters, the unhandled list and the weight window. */
  resetCounters(): void {
    this.requestCounts.clear();
    this.unhandled.length = 0;
    this.weightWindow = { minute: 0, used: 0 };
  }

  /** Destroys responses held by 'placeThenTimeout' hangs. */
  releaseHeld(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  /** node:http request listener. */
  async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.handle(req, res);
    } catch (error) {
      const e = toBinanceError(error);
      this.send(res, { status: e.status, body: JSON.stringify(e.body()), headers: {} });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);
    const key = `${method} ${url.pathname}`;
    this.requestCounts.set(key, (this.requestCounts.get(key) ?? 0) + 1);
    const header = req.headers['x-mbx-apikey'];
    const apiKey = typeof header === 'string' ? header : undefined;
    const plan = this.faults.plan({ method, path: url.pathname, apiKey });
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);
    const fault = plan.terminal;
    if (fault?.kind === 'respond') {
      return this.send(res, { status: fault.status, body: bodyText(fault.body), headers: fault.headers ?? {} });
    }
    if (fault?.kind === 'rateLimit') {
      const body = JSON.stringify(Errors.tooMuchWeight(this.weightLimit).body());
      return this.send(res, { status: fault.status ?? 429, body, headers: { 'retry-after': String(fault.retryAfterSec ?? 1) } });
    }
    const reply = this.process(key, url.search.slice(1), rawBody, apiKey);
    if (fault?.kind === 'placeThenTimeout') return this.withhold(req, res, fault.how ?? 'hang');
    if (fault?.kind === 'processThenRespond') {
      return this.send(res, { status: fault.status, body: bodyText(fault.body), headers: {} });
    }
    this.send(res, reply);
  }

  private process(key: string, rawQuery: string, rawBody: string, apiKey: string | undefined): Reply {
    const route = this.routes.get(key);
    if (route === undefined) {
      this.unhandled.push(key);
      return { status: 404, body: NOT_FOUND, headers: { 'content-type': 'text/html' } };
    }
    const params = paramsOf(rawQuery, rawBody);
    try {
      this.chargeWeight(route.weight(params));
      const now = this.state.now();
      const account = route.signed
        ? authenticate(this.state.engine.accounts, { apiKey, rawQuery, rawBody, params }, now)
        : undefined;
      return { status: 200, body: JSON.stringify(route.handle({ params, account, now })), headers: {} };
    } catch (error) {
      const e = toBinanceError(error);
      return { status: e.status, body: JSON.stringify(e.body()), headers: e.headers };
    }
  }

  private chargeWeight(weight: number): void {
    const now = this.state.now();
    const minute = Math.floor(now / 60_000);
    if (this.weightWindow.minute !== minute) this.weightWindow = { minute, used: 0 };
    this.weightWindow.used += weight;
    if (this.weightWindow.used > this.weightLimit) {
      const retryAfter = String(Math.ceil(((minute + 1) * 60_000 - now) / 1000));
      throw new BinanceError(429, -1003, Errors.tooMuchWeight(this.weightLimit).msg, { 'retry-after': retryAfter });
    }
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    const used = String(this.usedWeight());
    res.writeHead(reply.status, { ...JSON_HEADERS, 'x-mbx-used-weight': used, 'x-mbx-used-weight-1m': used, ...reply.headers });
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
