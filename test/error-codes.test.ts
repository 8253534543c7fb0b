/**
 * One error-code catalogue (src/lib/error-codes.ts): every code the source writes is in it with the status
 * it is written with; the same miss is the same code and status on every route, a malformed id in the
 * path included; the central handler answers a code outside the catalogue as 500 INTERNAL without a stack.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Router } from 'express';
import { ERROR_CODES, EXECUTION_REASONS, RESOURCE_NOT_FOUND, WS_FRAME_ERROR_CODES, errorCodesMarkdown, isErrorCode } from '../src/lib/error-codes.js';
import { AppError, notFound } from '../src/lib/errors.js';
import { ExchangeError } from '../src/exchange/errors.js';
import { createLogger } from '../src/lib/logger.js';
import { createExpressApp } from '../src/http/server.js';
import { Metrics } from '../src/metrics/index.js';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';

const SRC = path.resolve('src');
function sourceFiles(dir = SRC): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [{ file: path.relative(SRC, p), text: readFileSync(p, 'utf8') }] : [];
  });
}
const where = (file: string, text: string, index: number) => `${file}:${text.slice(0, index).split('\n').length}`;

/**
 * The top-level arguments of the call whose '(' is at `open`, as source text: commas inside strings,
 * template literals (with their `${}`), brackets and nested calls do not split.
 */
function callArguments(text: string, open: number): string[] {
  const args: string[] = [];
  const stack: string[] = [];
  let start = open + 1;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    const top = stack.at(-1);
    if (top === "'" || top === '"') { if (c === '\\') i++; else if (c === top) stack.pop(); continue; }
    if (top === '`') {
      if (c === '\\') i++; else if (c === '`') stack.pop(); else if (c === '$' && text[i + 1] === '{') { stack.push('{'); i++; }
      continue;
    }
    if (c === "'" || c === '"' || c === '`' || c === '(' || c === '[' || c === '{') stack.push(c);
    else if (c === ')' || c === ']' || c === '}') {
      if (!stack.length) { args.push(text.slice(start, i).trim()); return args; }
      stack.pop();
    } else if (c === ',' && !stack.length) { args.push(text.slice(start, i).trim()); start = i + 1; }
  }
  throw new Error(`unclosed call at ${open}`);
}

describe('error-code catalogue', () => {
  const files = sourceFiles();

  it('has UPPER_SNAKE codes, each with one 4xx/5xx status and a meaning', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
      assert.ok(Number.isInteger(info.status) && info.status >= 400 && info.status <= 599, `${code} ${info.status}`);
      assert.ok(info.meaning.length > 10, code);
    }
    assert.ok(Object.keys(ERROR_CODES).length >= 40);
    assert.equal(notFound('strategy').code, 'STRATEGY_NOT_FOUND');
    assert.equal(notFound('subscription').status, 404);
  });

  it('holds every code literal the source writes (AppError, badRequest, conflict, error bodies, WebSocket refusals)', () => {
    const patterns = [
      /new AppError\(\s*'([A-Z_]+)'/g, /badRequest\(\s*'([A-Z_]+)'/g, /conflict\(\s*'([A-Z_]+)'/g,
      /error: \{ code: '([A-Z_]+)'/g, /refuse\(socket, \d{3}, '([A-Z_]+)'/g, /refused: \{ code: '([A-Z_]+)'/g,
      /\? '([A-Z_]+)' : '[A-Z_]+', expired/g, /: '([A-Z_]+)', expired \?/g,
    ];
    const seen = new Set<string>();
    const missing: string[] = [];
    for (const { file, text } of files) {
      for (const re of patterns) {
        for (const m of text.matchAll(re)) {
          seen.add(m[1]!);
          if (!isErrorCode(m[1])) missing.push(`${m[1]} (${where(file, text, m.index!)})`);
        }
      }
    }
    assert.deepEqual(missing, [], 'codes written in src/ but not in src/lib/error-codes.ts');
    // The scan found the codes it is meant to find (a broken pattern would pass vacuously).
    for (const c of ['VALIDATION_FAILED', 'SIGNAL_INVALID', 'RATE_LIMITED', 'SHUTTING_DOWN', 'TICKET_INVALID', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'NOT_FOUND']) assert.ok(seen.has(c), c);
  });

  it('a status written at a call site (new AppError(CODE, message, STATUS ...)) is the catalogue status of CODE', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { file, text } of files) {
      for (const m of text.matchAll(/new AppError\(\s*'([A-Z_]+)'/g)) {
        const status = callArguments(text, m.index! + 'new AppError'.length)[2];
        if (status === undefined || status === 'undefined') continue; // the catalogue's status
        // The one code whose status passes through: another 4xx of the HTTP layer (body-parser, ...).
        if (m[1] === 'BAD_REQUEST' && status === 'e.status') continue;
        checked++;
        const want = ERROR_CODES[m[1] as keyof typeof ERROR_CODES]?.status;
        if (String(want) !== status) wrong.push(`${m[1]} written ${status}, catalogue ${want} (${where(file, text, m.index!)})`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(checked >= 30, `only ${checked} call sites with a status found`);
  });

  it('a missing resource is only ever written through notFound(), and NOT_FOUND (no such route) never by a route', () => {
    const resourceCodes = new Set<string>([...Object.values(RESOURCE_NOT_FOUND), 'NOT_FOUND']);
    const free: string[] = [];
    for (const { file, text } of files) {
      for (const m of text.matchAll(/new AppError\('([A-Z_]*NOT_FOUND)'/g)) if (resourceCodes.has(m[1]!)) free.push(`${m[1]} (${where(file, text, m.index!)})`);
    }
    assert.deepEqual(free, []);
  });

  it('lists the WebSocket ERROR frame codes and the execution reasons the source writes (separate vocabularies)', () => {
    const protocol = readFileSync(path.join(SRC, 'distribution/protocol.ts'), 'utf8');
    const union = /type ProtocolErrorCode = ([^;]+);/.exec(protocol)![1]!;
    const wsCodes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
    assert.ok(wsCodes.length >= 4);
    assert.deepEqual(wsCodes.filter((c) => !(c in WS_FRAME_ERROR_CODES)), []);
    const reasons = new Set<string>();
    for (const { file, text } of files.filter((f) => f.file.startsWith('execution/'))) {
      for (const m of text.matchAll(/['`]([A-Z][A-Z_]{3,}): /g)) {
        reasons.add(m[1]!);
        assert.ok(m[1]! in EXECUTION_REASONS, `${m[1]} (${where(file, text, m.index!)}) is not in EXECUTION_REASONS`);
      }
    }
    for (const r of ['PRICE_MOVED', 'BELOW_MIN_NOTIONAL', 'KEYS_INVALID']) assert.ok(reasons.has(r), r);
  });

  it('an exchange refusing the stored keys is never a 401 (that would tell an API client its own token is wrong)', () => {
    const e = new ExchangeError('auth', 'Invalid API-key', 'AuthenticationError');
    assert.equal(e.code, 'EXCHANGE_AUTH');
    assert.equal(e.status, ERROR_CODES.EXCHANGE_AUTH.status);
    assert.notEqual(e.status, 401);
    assert.equal(new ExchangeError('temporary', 'timeout', 'RequestTimeout').status, 503);
  });

  it('renders the README table from the catalogue: one row per code, sorted by status', () => {
    const table = errorCodesMarkdown().split('\n');
    assert.equal(table.length, Object.keys(ERROR_CODES).length + 2);
    assert.equal(table[2], '| `BAD_REQUEST` | 400 | the HTTP layer refused the request (its own 4xx status is kept) |');
    const statuses = table.slice(2).map((l) => Number(l.split('|')[2]));
    assert.deepEqual(statuses, [...statuses].sort((a, b) => a - b));
  });
});

describe('the same miss is the same code and status on every route', function () {
  this.timeout(60_000);
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  /** An unknown id and a malformed one: both 404 with `code`. */
  async function bothMiss(code: string, call: (id: string) => Promise<{ status: number; body: any }>) {
    for (const id of [randomUUID(), 'not-a-uuid', '12345', `${randomUUID()}x`]) {
      const r = await call(id);
      assert.equal(r.status, 404, `${code} for ${id}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, `for ${id}`);
      assert.equal(ERROR_CODES[code as keyof typeof ERROR_CODES].status, 404);
    }
  }

  it('strategies: detail, signals, verify, closed trades, edit, secret rotation, monitor open trades, TradingView webhook, authoring, bots, chart data', async () => {
    const { author } = await seedStrategy(app);
    const chartQuery = 'pair=BTC%2FUSDT&strategy=ma-crossover&fixture=candles-ma-cross';
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}/signals`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}/verify`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.patch(`/api/strategies/${id}`, { name: 'x' }, author.token));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.post(`/api/strategies/${id}/webhook-secret`, {}, author.token));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/monitor/strategies/${id}/open-trades`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.post(`/api/webhooks/tradingview/${id}`, { secret: 'x'.repeat(20), ticker: 'BTCUSDT', action: 'buy', price: 1 }));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}/closed-trades`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}/authoring`, author.token));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/strategies/${id}/bots`, author.token));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/api/charts/${id}/data?${chartQuery}`));
    await bothMiss('STRATEGY_NOT_FOUND', (id) => api.get(`/charts/${id}?${chartQuery}`));
  });

  it('bots: an unknown or malformed bot id on the author\'s own strategy is BOT_NOT_FOUND', async () => {
    const { author, strategyId } = await seedStrategy(app);
    await bothMiss('BOT_NOT_FOUND', (id) => api.get(`/api/strategies/${strategyId}/bots/${id}`, author.token));
    await bothMiss('BOT_NOT_FOUND', (id) => api.del(`/api/strategies/${strategyId}/bots/${id}`, author.token));
  });

  it('subscriptions: edit, cancel, test keys; another user\'s subscription is the same miss as an unknown one', async () => {
    const { strategyId } = await seedStrategy(app);
    const owner = await registerUser(app);
    const other = await registerUser(app);
    const sub = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 } }, owner.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    await bothMiss('SUBSCRIPTION_NOT_FOUND', (id) => api.patch(`/api/subscriptions/${id}`, { status: 'PAUSED' }, other.token));
    await bothMiss('SUBSCRIPTION_NOT_FOUND', (id) => api.del(`/api/subscriptions/${id}`, other.token));
    await bothMiss('SUBSCRIPTION_NOT_FOUND', (id) => api.post(`/api/subscriptions/${id}/test-keys`, {}, other.token));
    for (const call of [
      () => api.patch(`/api/subscriptions/${sub.body.id}`, { status: 'PAUSED' }, other.token),
      () => api.del(`/api/subscriptions/${sub.body.id}`, other.token),
      () => api.post(`/api/subscriptions/${sub.body.id}/test-keys`, {}, other.token),
      () => api.get(`/api/executions?subscriptionId=${sub.body.id}`, other.token),
    ]) {
      const r = await call();
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'SUBSCRIPTION_NOT_FOUND');
    }
    // Subscribing to a strategy that does not exist: the strategy's miss.
    const none = await api.post('/api/subscriptions', { strategyId: randomUUID(), exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 } }, owner.token);
    assert.equal(none.status, 404, JSON.stringify(none.body));
    assert.equal(none.body.error.code, 'STRATEGY_NOT_FOUND');
  });

  it('ids in a body or query field: malformed is 400 VALIDATION_FAILED naming the field, unknown is the resource\'s 404', async () => {
    const user = await registerUser(app);
    const { author } = await seedStrategy(app);
    const unknownSub = await api.get(`/api/executions?subscriptionId=${randomUUID()}`, user.token);
    assert.equal(unknownSub.status, 404);
    assert.equal(unknownSub.body.error.code, 'SUBSCRIPTION_NOT_FOUND');
    const badSub = await api.get('/api/executions?subscriptionId=not-a-uuid', user.token);
    assert.equal(badSub.status, 400);
    assert.equal(badSub.body.error.code, 'VALIDATION_FAILED');
    assert.equal(badSub.body.error.details.field, 'subscriptionId');

    const signal = { pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 100 };
    const unknown = await api.post('/api/signals', { ...signal, strategyId: randomUUID() }, author.token);
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    assert.equal(unknown.body.error.code, 'STRATEGY_NOT_FOUND');
    for (const strategyId of ['not-a-uuid', 42, undefined]) {
      const bad = await api.post('/api/signals', { ...signal, strategyId }, author.token);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
      assert.equal(bad.body.error.details.field, 'strategyId');
    }
    const badSubscribe = await api.post('/api/subscriptions', { strategyId: 'not-a-uuid', exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 } }, user.token);
    assert.equal(badSubscribe.status, 400);
    assert.equal(badSubscribe.body.error.code, 'VALIDATION_FAILED');
  });

  it('a taken email is 409 EMAIL_TAKEN, also when two registrations of one address race (the unique index decides)', async () => {
    const email = `race-${randomUUID().slice(0, 8)}@test.local`;
    const body = { email, password: 'correct horse battery' };
    const answers = await Promise.all([api.post('/api/auth/register', body), api.post('/api/auth/register', { ...body, email: ` ${email.toUpperCase()}` })]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
    const refused = answers.find((a) => a.status === 409)!;
    assert.equal(refused.body.error.code, 'EMAIL_TAKEN');
    const again = await api.post('/api/auth/register', body);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'EMAIL_TAKEN');
  });

  it('a deleted account\'s token is 401 ACCOUNT_NOT_FOUND on reads as on writes', async () => {
    const gone = await registerUser(app, 'AUTHOR');
    await app.db.prisma.user.delete({ where: { id: gone.user.id } });
    for (const r of [await api.get('/api/me', gone.token), await api.post('/api/strategies', { name: 'x' }, gone.token)]) {
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'ACCOUNT_NOT_FOUND');
    }
  });

  it('an unknown route is NOT_FOUND, distinct from a missing resource', async () => {
    const r = await api.get(`/api/strategiez/${randomUUID()}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
  });
});

describe('central error handler', () => {
  let server: http.Server;
  let base: string;
  const logged: Record<string, unknown>[] = [];
  before(async () => {
    const log = createLogger('silent');
    log.error = ((obj: Record<string, unknown>) => { logged.push(obj); }) as never;
    const boom = Router()
      .get('/t/uncatalogued', () => { throw new AppError('MADE_UP_CODE' as never, 'secret detail /etc/passwd', 418); })
      .get('/t/status-200', () => { throw new AppError('VALIDATION_FAILED', 'not an error status', 200); })
      .get('/t/plain', () => { throw new Error('db password=hunter2 at pool.ts:12'); })
      .get('/t/catalogued', () => { throw new AppError('TRADE_CONFLICT', 'already open'); });
    server = http.createServer(createExpressApp({ log, metrics: new Metrics(), bodyLimit: '1kb', trustProxy: false, routers: [boom] }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('answers a code outside the catalogue, a non-error status and a foreign error as 500 INTERNAL, with no stack or detail', async () => {
    for (const p of ['/t/uncatalogued', '/t/status-200', '/t/plain']) {
      const res = await fetch(base + p);
      const text = await res.text();
      assert.equal(res.status, 500, p);
      assert.deepEqual(JSON.parse(text), { error: { code: 'INTERNAL', message: 'internal error' } }, p);
      assert.doesNotMatch(text, /\bat |secret|hunter2|\.ts:\d/, p);
    }
    // The log keeps the original (with its stack) for the operator.
    const original = logged.map((l) => l.err as Error).find((e) => e instanceof AppError && e.code === ('MADE_UP_CODE' as never));
    assert.ok(original?.stack?.includes('error-codes.test.ts'), 'the original error, stack included, is logged');
  });

  it('answers a catalogue code with its catalogue status when the call site gives none', async () => {
    const res = await fetch(base + '/t/catalogued');
    assert.equal(res.status, ERROR_CODES.TRADE_CONFLICT.status);
    assert.deepEqual(await res.json(), { error: { code: 'TRADE_CONFLICT', message: 'already open' } });
  });
});
