import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import type { App } from '../src/app.js';
import type { SignalDistributor } from '../src/distribution/index.js';
import type { Signal } from '../src/signals/index.js';
import { client, registerUser, seedStrategy, startTestApp, TEST_JWT, uniquePair } from './support/app.js';
import { WsClient } from './support/ws-client.js';

/** Helpers over one running app: subscribe through REST, ingest through the coordinator. */
function helpers(app: App) {
  const api = client(app);
  return {
    api,
    async subscribe(token: string, strategyId: string, pairs?: string[]) {
      const r = await api.post('/api/subscriptions', { strategyId, exchange: 'binance', allPairs: !pairs, pairs: pairs ?? [], sizing: { mode: 'quote', amount: 10 } }, token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as string;
    },
    async ingest(strategyId: string, pair = uniquePair(), note?: string): Promise<Signal> {
      const r = await app.coordinator.accept({ strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100, note }, 'api');
      return r.signal;
    },
  };
}

const distributorOf = (app: App) => (app.components.find((c) => c.name === 'ws') as unknown as { distributor: SignalDistributor }).distributor;
const seqsOf = (c: WsClient) => c.signals.map((m) => m.seq!);

describe('WebSocket /ws/signals', function () {
  this.timeout(60_000);
  let app: App;
  let h: ReturnType<typeof helpers>;
  const clients: WsClient[] = [];
  const track = (c: WsClient) => { clients.push(c); return c; };

  before(async () => { app = await startTestApp({ ROLES: 'api', WS_MAX_BUFFERED_BYTES: '65536' }, { redis: true }); h = helpers(app); });
  afterEach(() => { for (const c of clients.splice(0)) c.close(); });
  after(async () => { await app?.stop(); });

  describe('authentication at the upgrade', () => {
    it('refuses a missing token with HTTP 401 and opens no socket', async () => {
      const r = await WsClient.refused(app.url);
      assert.equal(r.status, 401);
      assert.match(r.body, /UNAUTHORIZED/);
    });
    it('refuses a token signed with another secret with HTTP 401', async () => {
      const forged = jwt.sign({ role: 'USER' }, 'x'.repeat(40), { subject: '00000000-0000-4000-8000-000000000000', expiresIn: '1h' });
      assert.equal((await WsClient.refused(app.url, { token: forged })).status, 401);
      assert.equal((await WsClient.refused(app.url, { token: forged, via: 'query' })).status, 401);
    });
    it('refuses an expired token with HTTP 401 TOKEN_EXPIRED', async () => {
      const { user } = await registerUser(app);
      const expired = jwt.sign({ role: 'USER', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_JWT, { subject: user.id });
      const r = await WsClient.refused(app.url, { token: expired, via: 'query' });
      assert.equal(r.status, 401);
      assert.match(r.body, /TOKEN_EXPIRED/);
    });
    it('accepts a valid token in the Authorization header or ?token= and sends WELCOME with the latest seq', async () => {
      const { token } = await registerUser(app);
      const a = track(await WsClient.connect(app.url, token, 'header'));
      const b = track(await WsClient.connect(app.url, token, 'query'));
      const latest = await app.reader.lastSeq();
      assert.ok(a.welcomeSeq <= latest && a.welcomeSeq > 0, `welcome ${a.welcomeSeq} vs latest ${latest}`);
      assert.ok(b.welcomeSeq >= a.welcomeSeq);
    });
    it('closes a connected socket with 4401 when its token expires', async () => {
      const { user } = await registerUser(app);
      const short = jwt.sign({ role: 'USER', exp: Math.floor(Date.now() / 1000) + 2 }, TEST_JWT, { subject: user.id });
      const c = track(await WsClient.connect(app.url, short));
      const { code } = await c.closed;
      assert.equal(code, 4401);
    });
  });

  describe('matching by strategy, pair and status', () => {
    it('delivers a signal only to users with an ACTIVE subscription to its strategy and pair', async () => {
      const s1 = await seedStrategy(app);
      const s2 = await seedStrategy(app);
      const [p1, p2] = [uniquePair(), uniquePair()];
      const all = await registerUser(app); await h.subscribe(all.token, s1.strategyId);
      const onlyP1 = await registerUser(app); await h.subscribe(onlyP1.token, s1.strategyId, [p1]);
      const other = await registerUser(app); await h.subscribe(other.token, s2.strategyId);
      const paused = await registerUser(app);
      const pausedSub = await h.subscribe(paused.token, s1.strategyId);
      assert.equal((await h.api.patch(`/api/subscriptions/${pausedSub}`, { status: 'PAUSED' }, paused.token)).status, 200);
      await h.subscribe(paused.token, s2.strategyId); // a control stream, to know when delivery has caught up
      const [cAll, cP1, cOther, cPaused] = await Promise.all([all, onlyP1, other, paused].map(async (u) => track(await WsClient.connect(app.url, u.token))));

      const a = await h.ingest(s1.strategyId, p1);
      const b = await h.ingest(s1.strategyId, p2);
      const c = await h.ingest(s2.strategyId);
      await Promise.all([cAll.signal(b.id), cP1.signal(a.id), cOther.signal(c.id), cPaused.signal(c.id)]);
      await cAll.signal(a.id);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seqsOf(cAll), [a.seq, b.seq]);
      assert.deepEqual(seqsOf(cP1), [a.seq]);
      assert.deepEqual(seqsOf(cOther), [c.seq]);
      assert.deepEqual(seqsOf(cPaused), [c.seq], 'a PAUSED subscription receives nothing');
      assert.equal(cAll.signals[0]!.signal!.pair, p1);
    });

    it('applies new, paused, resumed, re-paired and cancelled subscriptions to a connected socket without reconnecting', async () => {
      const s = await seedStrategy(app);
      const control = await seedStrategy(app);
      const u = await registerUser(app);
      await h.subscribe(u.token, control.strategyId);
      const ws = track(await WsClient.connect(app.url, u.token));
      const [pa, pb] = [uniquePair(), uniquePair()];
      // Each step: the change, one signal on `s`, then one on the control strategy. Delivery is in seq
      // order, so once the control signal is here the step's signal either arrived or never will.
      // OPEN then CLOSE, so the pair is flat again (a second OPEN would be a repeat delivery).
      const step = async (pair: string) => {
        const open = await h.ingest(s.strategyId, pair);
        const close = (await app.coordinator.accept({ strategyId: s.strategyId, pair, action: 'CLOSE', direction: 'LONG', price: 101 }, 'api')).signal;
        const ctl = await h.ingest(control.strategyId);
        await ws.signal(ctl.id);
        const got = [open, close].map((x) => ws.signals.some((m) => m.signal!.id === x.id));
        assert.equal(got[0], got[1], 'OPEN and CLOSE on one pair are routed alike');
        return got[0];
      };
      // The change travels REST → Redis → this process's index; wait until the index shows it.
      const d = distributorOf(app);
      const applied = async (want: string) => {
        const show = () => { const f = d.index.routesOf(u.user.id).get(s.strategyId); return f === undefined ? 'none' : f === null ? 'all' : [...f].join(','); };
        for (let i = 0; i < 100 && show() !== want; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(show(), want);
      };
      assert.equal(await step(pa), false, 'not subscribed yet');
      const sub = await h.subscribe(u.token, s.strategyId, [pa]);
      await applied(pa);
      assert.equal(await step(pa), true, 'new subscription applies at once');
      assert.equal(await step(pb), false, 'pair not chosen');
      assert.equal((await h.api.patch(`/api/subscriptions/${sub}`, { pairs: [pb] }, u.token)).status, 200);
      await applied(pb);
      assert.equal(await step(pb), true, 'edited pairs apply');
      assert.equal(await step(pa), false, 'removed pair stops');
      assert.equal((await h.api.patch(`/api/subscriptions/${sub}`, { status: 'PAUSED' }, u.token)).status, 200);
      await applied('none');
      assert.equal(await step(pb), false, 'paused stops');
      assert.equal((await h.api.patch(`/api/subscriptions/${sub}`, { status: 'ACTIVE', allPairs: true }, u.token)).status, 200);
      await applied('all');
      assert.equal(await step(pa), true, 'resumed with all pairs');
      assert.equal((await h.api.del(`/api/subscriptions/${sub}`, u.token)).status, 200);
      await applied('none');
      assert.equal(await step(pa), false, 'cancelled stops');
    });
  });

  describe('RESUME', () => {
    it('replays exactly the missed visible signals in seq order, then live ones, with no gap or duplicate while signals keep arriving', async () => {
      const s = await seedStrategy(app);
      const hidden = await seedStrategy(app);
      const u = await registerUser(app);
      await h.subscribe(u.token, s.strategyId);
      const first = track(await WsClient.connect(app.url, u.token));
      const seen = await h.ingest(s.strategyId);
      await first.signal(seen.id);
      first.close();
      for (let i = 0; i < 5; i++) { await h.ingest(s.strategyId); await h.ingest(hidden.strategyId); }

      // Ingestion continues from 4 writers while the second socket resumes.
      let running = true;
      const writers = Array.from({ length: 4 }, async () => { let n = 0; while (running && n < 15) { await h.ingest(n % 3 ? s.strategyId : hidden.strategyId); n++; } });
      const second = track(await WsClient.connect(app.url, u.token));
      second.send({ type: 'RESUME', lastSeq: seen.seq });
      await Promise.all(writers);
      running = false;
      const last = await h.ingest(s.strategyId);
      await second.signal(last.id, 10_000);

      const expected = (await app.db.prisma.signal.findMany({ where: { strategyId: s.strategyId, seq: { gt: BigInt(seen.seq) } }, orderBy: { seq: 'asc' }, select: { seq: true } })).map((r) => Number(r.seq));
      assert.equal(expected.length, 5 + 40 + 1);
      assert.deepEqual(seqsOf(second), expected);
    });

    it('with more than 1,000 missed signals sends GAP {fromSeq,toSeq} and then the newest 1,000 in order', async () => {
      const s = await seedStrategy(app);
      const u = await registerUser(app);
      await h.subscribe(u.token, s.strategyId);
      const before = await app.reader.lastSeq();
      const ingested: Signal[] = [];
      await Promise.all(Array.from({ length: 6 }, async (_, w) => { for (let i = w; i < 1003; i += 6) ingested.push(await h.ingest(s.strategyId)); }));
      ingested.sort((a, b) => a.seq - b.seq);
      const ws = track(await WsClient.connect(app.url, u.token));
      ws.send({ type: 'RESUME', lastSeq: before });
      await ws.signal(ingested.at(-1)!.id, 15_000);
      const gapAt = ws.messages.findIndex((m) => m.type === 'GAP');
      assert.ok(gapAt >= 0, 'GAP sent');
      const newest = ingested.slice(-1000).map((x) => x.seq);
      assert.deepEqual(ws.messages[gapAt], { type: 'GAP', fromSeq: before + 1, toSeq: newest[0]! - 1 });
      assert.deepEqual(seqsOf(ws), newest);
      assert.ok(ws.messages.slice(0, gapAt).every((m) => m.type !== 'SIGNAL'), 'GAP comes before the replayed signals');
    });
  });

  describe('client messages', () => {
    it('answers PING with PONG, stores SETTINGS autoExecute on the user, and answers bad messages with ERROR without closing', async () => {
      const u = await registerUser(app);
      const ws = track(await WsClient.connect(app.url, u.token));
      ws.send({ type: 'PING' });
      await ws.waitFor((m) => m.type === 'PONG');
      ws.send({ type: 'SETTINGS', autoExecute: false });
      await ws.waitFor((m) => m.type === 'SETTINGS' && m.autoExecute === false);
      assert.equal((await app.db.prisma.user.findUnique({ where: { id: u.user.id } }))!.autoExecute, false);
      ws.send('{not json');
      assert.equal((await ws.waitFor((m) => m.type === 'ERROR')).code, 'BAD_JSON');
      let from = ws.messages.length;
      ws.send({ type: 'SUBSCRIBE_EVERYTHING' });
      assert.equal((await ws.waitFor((m) => m.type === 'ERROR', 5000, from)).code, 'UNKNOWN_TYPE');
      from = ws.messages.length;
      ws.send({ type: 'RESUME', lastSeq: 'yesterday' });
      assert.equal((await ws.waitFor((m) => m.type === 'ERROR', 5000, from)).code, 'BAD_MESSAGE');
      from = ws.messages.length;
      ws.send({ type: 'PING' });
      await ws.waitFor((m) => m.type === 'PONG', 5000, from);
    });

    it('closes the socket with 1009 on an oversized frame and keeps serving others', async () => {
      const u = await registerUser(app);
      const big = track(await WsClient.connect(app.url, u.token));
      const other = track(await WsClient.connect(app.url, u.token));
      big.send({ type: 'PING', pad: 'x'.repeat(10_000) });
      assert.equal((await big.closed).code, 1009);
      other.send({ type: 'PING' });
      await other.waitFor((m) => m.type === 'PONG');
    });
  });

  it('closes a client that does not read with 1013 while another client on the same strategy receives every signal', async () => {
    const s = await seedStrategy(app);
    const [slowUser, fastUser] = [await registerUser(app), await registerUser(app)];
    await h.subscribe(slowUser.token, s.strategyId);
    await h.subscribe(fastUser.token, s.strategyId);
    const slow = await WsClient.connect(app.url, slowUser.token);
    const fast = await WsClient.connect(app.url, fastUser.token);
    // Stop reading (this app pings every 30 s, so the heartbeat does not step in first). Loopback kernel
    // buffers hold ~4 MB, so ~3,000 signals of ~1.6 KB get past them into the server's bounded buffer.
    slow.ws.pause();
    const note = 'n'.repeat(1000);
    const ingested: Signal[] = [];
    const slowCloses = async () => ((await app.metrics.registry.getSingleMetric('ws_closed_total')!.get()).values.find((v) => v.labels.reason === 'slow')?.value ?? 0);
    const closesBefore = await slowCloses();
    let slowClosedAfter = -1;
    // Resume reading as soon as the server has given up on the slow client, to observe the close code.
    const watcher = (async () => {
      while (slowClosedAfter < 0 && ingested.length < 3200) {
        if ((await slowCloses()) > closesBefore) { slowClosedAfter = ingested.length; slow.ws.resume(); return; }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < 3200 && slowClosedAfter < 0; i += 8) ingested.push(await h.ingest(s.strategyId, undefined, note));
    }));
    await watcher;
    const last = ingested.sort((a, b) => a.seq - b.seq).at(-1)!;
    await fast.signal(last.id, 20_000);
    assert.deepEqual(seqsOf(fast), ingested.map((x) => x.seq), 'the reading client got every signal, in order');
    assert.ok(slowClosedAfter > 0, 'the slow client was closed during ingestion');
    assert.equal((await slow.closed).code, 1013);
    assert.ok(slow.signals.length < ingested.length);
    fast.close();
  });

  it('reports connected clients, frames sent and fan-out latency on /metrics', async () => {
    const s = await seedStrategy(app);
    const u = await registerUser(app);
    await h.subscribe(u.token, s.strategyId);
    const ws = track(await WsClient.connect(app.url, u.token));
    await ws.signal((await h.ingest(s.strategyId)).id);
    const text = (await h.api.get('/metrics')).body as string;
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(value('ws_clients_connected') >= 1, 'connected gauge');
    assert.ok(value('ws_messages_sent_total') >= 2, 'WELCOME and SIGNAL counted');
    assert.ok(value('ws_fanout_duration_seconds_count') >= 1, 'fan-out histogram observed');
    assert.match(text, /ws_closed_total/);
  });

  it('a signal whose bus message never reaches this process is still delivered, in order, from PostgreSQL', async () => {
    // A second app on the same database but without Redis: its signals never reach `app`'s bus.
    const isolated = await startTestApp({ ROLES: 'api' });
    try {
      const s = await seedStrategy(app);
      const u = await registerUser(app);
      await h.subscribe(u.token, s.strategyId);
      const ws = track(await WsClient.connect(app.url, u.token));
      const lost = (await isolated.coordinator.accept({ strategyId: s.strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 1 }, 'api')).signal;
      const next = await h.ingest(s.strategyId);
      await ws.signal(next.id);
      assert.deepEqual(seqsOf(ws), [lost.seq, next.seq]);
    } finally {
      await isolated.stop();
    }
  });
});

describe('WebSocket /ws/signals: liveness', function () {
  this.timeout(90_000);
  let app: App;
  before(async () => { app = await startTestApp({ ROLES: 'api', WS_PING_INTERVAL_MS: '300' }, { redis: true }); });
  after(async () => { await app?.stop(); });

  it('terminates a peer that stops answering pings', async () => {
    const u = await registerUser(app);
    const ws = await WsClient.connect(app.url, u.token);
    const d = distributorOf(app);
    const before = d.connected;
    ws.ws.pause(); // stops reading: pings go unanswered
    const deadline = Date.now() + 5000;
    while (d.connected >= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(d.connected, before - 1);
    ws.close();
  });

});

describe('WebSocket /ws/signals: a lost subscription.changed heals', function () {
  this.timeout(60_000);
  let app: App;
  let h: ReturnType<typeof helpers>;
  before(async () => { app = await startTestApp({ ROLES: 'api', WS_ROUTES_RESYNC_MS: '60000' }, { redis: true }); h = helpers(app); });
  after(async () => { await app?.stop(); });

  // Changes written straight to PostgreSQL announce nothing: exactly what a message lost on the bus looks like.
  const routeIn = (a: App, userId: string, strategyId: string) => {
    const f = distributorOf(a).index.routesOf(userId).get(strategyId);
    return f === undefined ? 'none' : f === null ? 'all' : [...f].sort().join(',');
  };
  const routeOf = (userId: string, strategyId: string) => routeIn(app, userId, strategyId);
  const until = async (f: () => boolean, ms: number) => { const end = Date.now() + ms; while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 20)); return f(); };

  it('the periodic resync applies subscription changes whose announcement never arrived', async () => {
    const local = await startTestApp({ ROLES: 'api', WS_ROUTES_RESYNC_MS: '1000' }, { redis: true });
    const lh = helpers(local);
    const route = (userId: string, strategyId: string) => routeIn(local, userId, strategyId);
    try {
      const s = await seedStrategy(local);
      const u = await registerUser(local);
      const [pa, pb] = [uniquePair(), uniquePair()];
      const sub = await lh.subscribe(u.token, s.strategyId, [pa]);
      const ws = await WsClient.connect(local.url, u.token);
      try {
        assert.equal(route(u.user.id, s.strategyId), pa);
        await local.db.prisma.subscription.update({ where: { id: sub }, data: { subscribedPairs: [pb] } });
        assert.ok(await until(() => route(u.user.id, s.strategyId) === pb, 5000), 'edited pairs applied by the resync');
        const onB = await lh.ingest(s.strategyId, pb);
        await ws.signal(onB.id);
        await local.db.prisma.subscription.update({ where: { id: sub }, data: { status: 'PAUSED' } });
        assert.ok(await until(() => route(u.user.id, s.strategyId) === 'none', 5000), 'pause applied by the resync');
        const control = await seedStrategy(local);
        await lh.subscribe(u.token, control.strategyId);
        assert.ok(await until(() => route(u.user.id, control.strategyId) === 'all', 3000));
        const hidden = await lh.ingest(s.strategyId, pa);
        const ctl = await lh.ingest(control.strategyId);
        await ws.signal(ctl.id);
        assert.ok(!ws.signals.some((m) => m.signal!.id === hidden.id), 'a paused subscription receives nothing');
        const text = await (await fetch(`${local.url}/metrics`)).text();
        assert.match(text, /ws_routes_resync_corrections_total [1-9]/);
      } finally { ws.close(); }
    } finally { await local.stop(); }
  });

  it('after the Redis subscriber reconnects, every connected user\'s routes are reloaded at once', async () => {
    const s = await seedStrategy(app);
    const u = await registerUser(app);
    const sub = await h.subscribe(u.token, s.strategyId);
    const ws = await WsClient.connect(app.url, u.token);
    try {
      assert.equal(routeOf(u.user.id, s.strategyId), 'all');
      await app.db.prisma.subscription.update({ where: { id: sub }, data: { status: 'CANCELLED' } });
      const { Redis } = await import('ioredis');
      const admin = new Redis(app.config.redisUrl!);
      try { await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'); } finally { admin.disconnect(); }
      // The period is 60 s: only the reconnect can apply the change within seconds.
      assert.ok(await until(() => routeOf(u.user.id, s.strategyId) === 'none', 10_000), 'routes reloaded after the reconnect');
    } finally { ws.close(); }
  });
});
