/**
 * Issue 16, item 15 (exposure) and item 13's query 500s: what a stranger or a careless client can reach.
 * WebSocket tickets and the per-user socket cap run against an app without Redis (in-memory tickets,
 * per-process cap) and one with Redis (tickets redeemed with GETDEL, cluster-wide cap); the
 * multi-process side is in distribution-cluster.test.ts, the nginx side in nginx.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { App } from '../src/app.js';
import { ChartData } from '../src/capture/chart-data.js';
import { chartRoutes } from '../src/capture/chart-routes.js';
import type { PublicMarketData } from '../src/exchange/public-client.js';
import { createExpressApp } from '../src/http/server.js';
import { createLogger } from '../src/lib/logger.js';
import { Metrics } from '../src/metrics/index.js';
import type { Signal } from '../src/signals/index.js';
import { client, registerUser, seedStrategy, startTestApp, TEST_JWT, uniquePair } from './support/app.js';
import { WsClient } from './support/ws-client.js';

const TTL_SECONDS = 2;

/** GET from a given local source address (any 127.x.y.z is a loopback address this machine can send from). */
function getFrom(from: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { localAddress: from, agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function subscribe(app: App, token: string, strategyId: string): Promise<void> {
  const r = await client(app).post('/api/subscriptions', { strategyId, exchange: 'binance', allPairs: true, pairs: [], sizing: { mode: 'quote', amount: 10 } }, token);
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

async function ingest(app: App, strategyId: string): Promise<Signal> {
  return (await app.coordinator.accept({ strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 100 }, 'api')).signal;
}

for (const mode of ['in memory (no Redis)', 'in Redis'] as const) {
  describe(`WebSocket tickets and the per-user socket cap, ${mode}`, function () {
    this.timeout(60_000);
    let app: App;
    const clients: WsClient[] = [];
    const track = (c: WsClient) => { clients.push(c); return c; };

    before(async () => {
      app = await startTestApp({ ROLES: 'api', WS_TICKET_TTL_SECONDS: String(TTL_SECONDS) }, { redis: mode === 'in Redis' });
    });
    afterEach(() => { for (const c of clients.splice(0)) c.close(); });
    after(async () => { await app?.stop(); });

    it('a ticket from POST /api/ws-ticket opens one socket for its user; the same ticket used again is refused with HTTP 401', async () => {
      const { strategyId } = await seedStrategy(app);
      const u = await registerUser(app);
      await subscribe(app, u.token, strategyId);
      const r = await client(app).post('/api/ws-ticket', undefined, u.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.match(r.body.ticket, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
      assert.equal(r.body.expiresInSeconds, TTL_SECONDS);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.ok(!r.body.ticket.includes(u.token.split('.')[1]!), 'the ticket is not the JWT');

      const ws = WsClient.open(app.url, { query: `ticket=${r.body.ticket}` });
      track(ws);
      await ws.waitFor((m) => m.type === 'WELCOME');
      // Bound to the user: the socket gets this user's signals.
      const s = await ingest(app, strategyId);
      await ws.signal(s.id);

      const again = await WsClient.refused(app.url, { ticket: r.body.ticket });
      assert.equal(again.status, 401);
      assert.match(again.body, /TICKET_INVALID/);
    });

    it('an expired ticket is refused with HTTP 401 (a fresh one of the same user still connects)', async () => {
      const u = await registerUser(app);
      const stale = await WsClient.ticket(app.url, u.token);
      const fresh = await WsClient.ticket(app.url, u.token);
      const ok = track(WsClient.open(app.url, { query: `ticket=${fresh}` }));
      await ok.waitFor((m) => m.type === 'WELCOME');
      await new Promise((r) => setTimeout(r, TTL_SECONDS * 1000 + 500));
      const r = await WsClient.refused(app.url, { ticket: stale });
      assert.equal(r.status, 401);
      assert.match(r.body, /TICKET_INVALID/);
    });

    it('a forged or malformed ticket is refused with HTTP 401, and POST /api/ws-ticket needs the Bearer JWT', async () => {
      for (const t of ['A'.repeat(43), 'not-a-ticket', '']) {
        const r = await WsClient.refused(app.url, { ticket: t });
        assert.equal(r.status, 401, t);
      }
      assert.equal((await client(app).post('/api/ws-ticket')).status, 401);
      assert.equal((await client(app).post('/api/ws-ticket', undefined, 'x.y.z')).status, 401);
    });

    it('a ticket keeps the expiry of the JWT it was issued with: the socket is closed with 4401 when that JWT expires', async () => {
      const { user } = await registerUser(app);
      const short = jwt.sign({ role: 'USER', exp: Math.floor(Date.now() / 1000) + 3 }, TEST_JWT, { subject: user.id });
      const ws = track(await WsClient.connect(app.url, short, 'ticket'));
      assert.equal((await ws.closed).code, 4401);
    });

    it('the deprecated ?token= still connects', async () => {
      const u = await registerUser(app);
      const ws = track(await WsClient.connect(app.url, u.token, 'query'));
      assert.ok(ws.welcomeSeq >= 0);
    });

    it('the 11th socket of one user is closed with 1008 while the first 10 keep receiving; once one closes, a new one is accepted', async () => {
      const { strategyId } = await seedStrategy(app);
      const u = await registerUser(app);
      await subscribe(app, u.token, strategyId);
      const ten = await Promise.all(Array.from({ length: 10 }, async (_, i) => track(await WsClient.connect(app.url, u.token, i % 2 ? 'ticket' : 'header'))));
      const eleventh = track(WsClient.open(app.url, { headers: { authorization: `Bearer ${u.token}` } }));
      const closed = await eleventh.closed;
      assert.equal(closed.code, 1008);
      assert.match(closed.reason, /too many sockets/);
      assert.equal(eleventh.messages.length, 0, 'nothing was sent to the refused socket');
      // Another user is not affected by this one's sockets.
      const other = await registerUser(app);
      track(await WsClient.connect(app.url, other.token));

      const s = await ingest(app, strategyId);
      await Promise.all(ten.map((c) => c.signal(s.id)));

      ten[0]!.ws.close();
      await ten[0]!.closed;
      // The slot is freed when the server sees the close; retry briefly rather than sleep a guess.
      const deadline = Date.now() + 5000;
      let replacement: WsClient | undefined;
      while (!replacement) {
        const next = track(WsClient.open(app.url, { headers: { authorization: `Bearer ${u.token}` } }));
        const got = await Promise.race([next.waitFor((m) => m.type === 'WELCOME').then(() => 'welcome', () => 'closed'), next.closed.then(() => 'closed')]);
        if (got === 'welcome') replacement = next;
        else if (Date.now() > deadline) assert.fail('the freed slot was never given to a new socket');
        else await new Promise((r) => setTimeout(r, 100));
      }
      const s2 = await ingest(app, strategyId);
      await replacement.signal(s2.id);
    });
  });
}

describe('health details and metrics are for the operator network only (app side)', function () {
  this.timeout(30_000);
  let app: App;
  // The operator network here is 127.0.0.1 only, so 127.0.0.2 (also loopback) plays the stranger.
  before(async () => { app = await startTestApp({ ROLES: 'api', OPERATOR_NETWORKS: '127.0.0.1/32,::1/128' }); });
  after(async () => { await app?.stop(); });

  it('a stranger gets only { status } from /health and 403 OPERATOR_ONLY from /health/details and /metrics; the operator gets both', async () => {
    const port = (app.server!.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    const pub = await getFrom('127.0.0.2', `${base}/health`);
    assert.equal(pub.status, 200);
    assert.deepEqual(JSON.parse(pub.body), { status: 'ok' });
    for (const p of ['/health/details', '/metrics', '/METRICS', '/metrics/']) {
      const r = await getFrom('127.0.0.2', base + p);
      assert.equal(r.status, 403, p);
      assert.equal(JSON.parse(r.body).error.code, 'OPERATOR_ONLY');
    }
    // Behind a local proxy (TRUST_PROXY=loopback) the client it forwards for is judged, not the proxy.
    assert.equal((await getFrom('127.0.0.1', `${base}/metrics`, { 'x-forwarded-for': '203.0.113.9' })).status, 403);

    const details = await getFrom('127.0.0.1', `${base}/health/details`);
    assert.equal(details.status, 200);
    assert.equal(JSON.parse(details.body).checks.db.ok, true);
    const metrics = await getFrom('127.0.0.1', `${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /http_requests_total|process_cpu/);
  });
});

describe('chart data only from configured exchanges', function () {
  this.timeout(30_000);

  /** A PublicMarketData that records every request it is asked to make. */
  function spyMarket() {
    const calls: string[] = [];
    const market: PublicMarketData = {
      async fetchCandles(exchangeId, pair) { calls.push(`${exchangeId} ${pair}`); return [{ time: 60, open: 1, high: 1, low: 1, close: 1, volume: 1 }]; },
      async close() {},
    };
    return { calls, market };
  }

  it('?exchange= naming an unconfigured ccxt exchange is 400 CHART_EXCHANGE_NOT_CONFIGURED and no exchange request is made; a configured one is fetched', async () => {
    const { calls, market } = spyMarket();
    const data = new ChartData({ market, cacheMs: 0, fixturesDir: '/nonexistent', exchanges: ['binance'] });
    const app = createExpressApp({ log: createLogger('silent'), metrics: new Metrics(), bodyLimit: '64kb', trustProxy: 'loopback', routers: [chartRoutes({ data, evidenceDir: '/nonexistent' })] });
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const id = randomUUID();
      const q = 'pair=BTC%2FUSDT&tf=1m&strategy=ma-crossover';
      for (const ex of ['kraken', 'binanceus', 'bitmex']) {
        const r = await client(base).get(`/api/charts/${id}/data?${q}&exchange=${ex}`);
        assert.equal(r.status, 400, ex);
        assert.equal(r.body.error.code, 'CHART_EXCHANGE_NOT_CONFIGURED');
        assert.equal((await fetch(`${base}/charts/${id}?${q}&exchange=${ex}`)).status, 400, `the page for ${ex}`);
      }
      assert.deepEqual(calls, [], 'no request was sent for an unconfigured exchange');
      const ok = await client(base).get(`/api/charts/${id}/data?${q}&exchange=binance`);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(calls, ['binance BTC/USDT']);
    } finally {
      server.close();
    }
  });

  it('through the app: the configured list is CHART_EXCHANGES plus MONITOR_EXCHANGE plus every EXCHANGE_URL_<ID>; anything else is refused', async () => {
    const app = await startTestApp({ ROLES: 'api', CHART_EXCHANGES: 'mexc', MONITOR_EXCHANGE: 'bybit', EXCHANGE_URL_BINANCE: 'http://127.0.0.1:9' });
    try {
      assert.deepEqual([...app.config.capture.chartExchanges].sort(), ['binance', 'bybit', 'mexc']);
      const r = await client(app).get(`/api/charts/${randomUUID()}/data?pair=BTC%2FUSDT&strategy=ma-crossover&exchange=kraken`);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'CHART_EXCHANGE_NOT_CONFIGURED');
    } finally {
      await app.stop();
    }
  });
});

describe('execution history queries: odd parameters are a 400 with a reason, never a 500', function () {
  this.timeout(30_000);
  let app: App;
  let user: string;
  let admin: string;
  before(async () => {
    app = await startTestApp({ ROLES: 'api' });
    user = (await registerUser(app)).token;
    const a = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: a.user.id }, data: { role: 'ADMIN' } });
    admin = app.tokens.sign({ id: a.user.id, role: 'ADMIN' });
  });
  after(async () => { await app?.stop(); });

  it('GET /api/executions?exchange=a&exchange=b and other repeated or malformed parameters answer 400 VALIDATION_FAILED naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['exchange=a&exchange=b', /exchange/],
      ['status=SUCCESS&status=FAILED', /status/],
      ['subscriptionId=a&subscriptionId=b', /subscriptionId/],
      ['limit=1&limit=2', /limit/],
      ['limit=abc', /limit/],
      ['exchange=%00%01', /exchange/],
      ['status=nope', /status/],
    ];
    for (const [route, token] of [['/api/executions', user], ['/api/admin/executions', admin]] as const) {
      for (const [q, reason] of cases) {
        const r = await client(app).get(`${route}?${q}`, token);
        assert.equal(r.status, 400, `${route}?${q}: ${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'VALIDATION_FAILED');
        assert.match(r.body.error.message, reason, q);
      }
      const fine = await client(app).get(`${route}?exchange=Binance&status=SUCCESS&limit=1000&unknown=1&unknown=2`, token);
      assert.equal(fine.status, 200, JSON.stringify(fine.body));
    }
  });
});
