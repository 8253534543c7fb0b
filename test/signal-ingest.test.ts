import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../src/app.js';
import type { AcceptResult } from '../src/signals/coordinator.js';
import { client, registerUser, seedStrategy, startTestApp, uniquePair } from './support/app.js';

// The answer comes after the database commit; the JSON store's flush follows within milliseconds.
const readJson = async (app: App, file: string) => {
  await app.store!.flush();
  return JSON.parse(await readFile(path.join(app.config.dataDir, 'signals', file), 'utf8'));
};

describe('signal ingest (REST and TradingView webhook)', () => {
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  const open = (pair: string, extra: Record<string, unknown> = {}) => ({ pair, action: 'OPEN', direction: 'LONG', price: 100, ...extra });

  describe('validation: each rule refuses with 400 and a reason, and stores nothing', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['pair not BASE/QUOTE', { pair: 'BTCUSDT' }, /pair must look like BASE\/QUOTE/],
      ['price zero', { price: 0 }, /price must be > 0/],
      ['price negative', { price: -5 }, /price must be > 0/],
      ['price not a number', { price: 'abc' }, /price/],
      ['unknown action', { action: 'BUY' }, /action must be OPEN or CLOSE/],
      ['unknown direction', { direction: 'UP' }, /direction must be LONG or SHORT/],
      ['LONG with stop loss above price', { stopLoss: 101 }, /stopLoss must be below/],
      ['LONG with take profit below price', { takeProfit: 99 }, /takeProfit must be above/],
      ['SHORT with stop loss below price', { direction: 'SHORT', stopLoss: 99 }, /stopLoss must be above/],
      ['SHORT with take profit above price', { direction: 'SHORT', takeProfit: 101 }, /takeProfit must be below/],
      ['OPEN without direction', { direction: undefined }, /direction is required/],
      ['price too small to store', { price: 1e-13 }, /price must be at least/],
      ['price too large to store', { price: 1e16 }, /price must be below 1e15/],
      ['note with a NUL character', { note: 'a\u0000b' }, /note must not contain NUL/],
    ];
    for (const [name, patch, reason] of cases) {
      it(`refuses ${name}`, async () => {
        const { author, strategyId } = await seedStrategy(app);
        const pair = uniquePair();
        const r = await api.post('/api/signals', { strategyId, ...open(pair), ...patch }, author.token);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'SIGNAL_INVALID');
        assert.match(r.body.error.message, reason);
        const list = await api.get(`/api/strategies/${strategyId}/signals`);
        assert.equal(list.body.signals.length, 0);
      });
    }
  });

  it('accepts an OPEN into PostgreSQL and active.json with its seq, then a CLOSE moves it to completed_trades.json with PnL', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const o = await api.post('/api/signals', { strategyId, ...open(pair, { price: 200, stopLoss: 190, takeProfit: 220 }) }, author.token);
    assert.equal(o.status, 201, JSON.stringify(o.body));
    assert.equal(o.body.source, 'api');
    assert.ok(o.body.seq > 0);
    const row = await app.db.prisma.signal.findUnique({ where: { id: o.body.id } });
    assert.equal(Number(row!.seq), o.body.seq);
    const active = await readJson(app, 'active.json');
    assert.ok(active.some((t: { openSignalId: string; openSeq: number }) => t.openSignalId === o.body.id && t.openSeq === o.body.seq));
    const meta = await readJson(app, 'metadata.json');
    assert.ok(meta.lastSeq >= o.body.seq);

    const c = await api.post('/api/signals', { strategyId, pair, action: 'CLOSE', direction: 'LONG', price: 210 }, author.token);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.ok(c.body.seq > o.body.seq);
    const completed = await readJson(app, 'completed_trades.json');
    const trade = completed.find((t: { closeSignalId: string }) => t.closeSignalId === c.body.id);
    assert.equal(trade.pnlPct, 5);
    assert.equal(trade.exitPrice, 210);
    assert.ok(!(await readJson(app, 'active.json')).some((t: { id: string }) => t.id === trade.id));
    const month = await readJson(app, `closed/${trade.closedAt.slice(0, 7)}.json`);
    assert.ok(month.some((t: { id: string }) => t.id === trade.id));
  });

  it('answers a repeat delivery (same pair, action and direction inside the window) with the original signal and stores nothing', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const first = await api.post('/api/signals', { strategyId, ...open(pair) }, author.token);
    const again = await api.post('/api/signals', { strategyId, ...open(pair, { price: 101 }) }, author.token);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.seq, first.body.seq);
    assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 1);
  });

  it('answers a repeated idempotencyKey with the original even outside the dedup window', async () => {
    const local = await startTestApp({ DEDUP_WINDOW_MINUTES: '0' });
    try {
      const { author, strategyId } = await seedStrategy(local);
      const pair = uniquePair();
      const c = client(local);
      const first = await c.post('/api/signals', { strategyId, ...open(pair), idempotencyKey: 'k-1' }, author.token);
      await c.post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 100 }, author.token);
      const again = await c.post('/api/signals', { strategyId, ...open(pair), idempotencyKey: 'k-1' }, author.token);
      assert.equal(again.body.id, first.body.id);
      assert.equal(await local.db.prisma.signal.count({ where: { strategyId } }), 2);
    } finally { await local.stop(); }
  });

  it('stores text fields exactly as sent, quotes, backslashes and $n included (the accept SQL inlines literals)', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const note = `it's a \\'test\\' $1 $17 '; DROP TABLE "Signal"; -- E'\\x41' ünïcødé 🚀`;
    const key = `k'\\"$2--${pair}`;
    const first = await api.post('/api/signals', { strategyId, ...open(pair, { price: 0.00000123, stopLoss: 1e-7 }), note, idempotencyKey: key }, author.token);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.note, note);
    assert.equal(first.body.idempotencyKey, key);
    const row = await app.db.prisma.signal.findUnique({ where: { id: first.body.id } });
    assert.equal(row!.note, note);
    assert.equal(row!.idempotencyKey, key);
    assert.equal(Number(row!.price), 0.00000123);
    assert.equal(Number(row!.stopLoss), 1e-7);
    // The same key matched through the inlined read returns the original.
    const again = await api.post('/api/signals', { strategyId, ...open(pair, { price: 0.00000123, stopLoss: 1e-7 }), note, idempotencyKey: key }, author.token);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
  });

  it('refuses an OPEN against an open trade in the other direction, and a CLOSE with nothing open, with 409', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const none = await api.post('/api/signals', { strategyId, pair, action: 'CLOSE', direction: 'LONG', price: 100 }, author.token);
    assert.equal(none.status, 409);
    assert.equal(none.body.error.code, 'NO_OPEN_TRADE');
    await api.post('/api/signals', { strategyId, ...open(pair) }, author.token);
    const opposite = await api.post('/api/signals', { strategyId, ...open(pair, { direction: 'SHORT' }) }, author.token);
    assert.equal(opposite.status, 409);
    assert.equal(opposite.body.error.code, 'TRADE_CONFLICT');
  });

  it('a refused (409) or repeated signal takes no seq: the next accepted signal gets the next seq', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const pair = uniquePair();
    const first = await api.post('/api/signals', { strategyId, ...open(pair) }, author.token);
    assert.equal(first.status, 201);
    assert.equal((await api.post('/api/signals', { strategyId, ...open(pair, { direction: 'SHORT' }) }, author.token)).status, 409);
    assert.equal((await api.post('/api/signals', { strategyId, ...open(pair) }, author.token)).status, 200);
    assert.equal((await api.post('/api/signals', { strategyId, pair: uniquePair(), action: 'CLOSE', price: 100 }, author.token)).status, 409);
    const next = await api.post('/api/signals', { strategyId, ...open(uniquePair()) }, author.token);
    assert.equal(next.status, 201);
    assert.equal(next.body.seq, first.body.seq + 1);
  });

  it("refuses a signal for another author's strategy with 403 and for a USER with 403", async () => {
    const { strategyId } = await seedStrategy(app);
    const other = await registerUser(app, 'AUTHOR');
    const r = await api.post('/api/signals', { strategyId, ...open(uniquePair()) }, other.token);
    assert.equal(r.status, 403);
    const user = await registerUser(app, 'USER');
    assert.equal((await api.post('/api/signals', { strategyId, ...open(uniquePair()) }, user.token)).status, 403);
    assert.equal((await api.post('/api/signals', { strategyId, ...open(uniquePair()) })).status, 401);
  });

  describe('TradingView webhook', () => {
    it('with a wrong or missing secret answers 401 and stores nothing', async () => {
      const { strategyId } = await seedStrategy(app);
      const body = { ...open(uniquePair()) };
      const wrong = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ...body, secret: 'nope' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'WEBHOOK_SECRET_INVALID');
      assert.equal((await api.post(`/api/webhooks/tradingview/${strategyId}`, body)).status, 401);
      assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 0);
    });

    it('accepts the secret in the X-Webhook-Secret header and answers 202 with the signal', async () => {
      const { strategyId, secret } = await seedStrategy(app);
      const r = await api.post(`/api/webhooks/tradingview/${strategyId}`, open(uniquePair()), undefined, { 'x-webhook-secret': secret });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal(r.body.source, 'webhook');
    });

    it('maps placeholders: BTCUSDT flat→long is OPEN LONG, and a reversal long→short is CLOSE LONG then OPEN SHORT', async () => {
      const { strategyId, secret } = await seedStrategy(app);
      const tv = (prev: string, now: string, price: number) => ({ ticker: 'BINANCE:BTCUSDT', exchange: 'BINANCE', action: 'buy', market_position: now, prev_market_position: prev, price, secret });
      const o = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('flat', 'long', 100));
      assert.equal(o.status, 202, JSON.stringify(o.body));
      assert.deepEqual([o.body.pair, o.body.action, o.body.direction], ['BTC/USDT', 'OPEN', 'LONG']);
      const rev = await api.post(`/api/webhooks/tradingview/${strategyId}`, tv('long', 'short', 90));
      assert.equal(rev.status, 202, JSON.stringify(rev.body));
      assert.deepEqual(rev.body.signals.map((s: { action: string; direction: string }) => `${s.action} ${s.direction}`), ['CLOSE LONG', 'OPEN SHORT']);
      assert.ok(rev.body.signals[1].seq > rev.body.signals[0].seq);
      const trade = await app.db.prisma.trade.findFirst({ where: { strategyId, status: 'COMPLETED' } });
      assert.equal(Number(trade!.pnlPct), -10);
    });

    it('refuses a timestamp older than maxLagSeconds as stale (409)', async () => {
      const { strategyId, secret } = await seedStrategy(app, { maxLagSeconds: 30 });
      const r = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ...open(uniquePair()), secret, timestamp: new Date(Date.now() - 60_000).toISOString() });
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'SIGNAL_STALE');
      const fresh = await api.post(`/api/webhooks/tradingview/${strategyId}`, { ...open(uniquePair()), secret, timestamp: Math.floor(Date.now() / 1000) });
      assert.equal(fresh.status, 202);
    });

    it('answers malformed JSON with 400 INVALID_JSON, and an unknown strategy with 404', async () => {
      const { strategyId } = await seedStrategy(app);
      const bad = await api.post(`/api/webhooks/tradingview/${strategyId}`, '{"pair":', undefined);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'INVALID_JSON');
      const unknown = await api.post(`/api/webhooks/tradingview/${crypto.randomUUID()}`, { ...open('BTC/USDT'), secret: 'x'.repeat(20) });
      assert.equal(unknown.status, 404);
    });

    it('rate-limits one strategy (429) without affecting another', async () => {
      const local = await startTestApp({ WEBHOOK_RATE_LIMIT_PER_MINUTE: '3' });
      try {
        const a = await seedStrategy(local);
        const b = await seedStrategy(local);
        const c = client(local);
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await c.post(`/api/webhooks/tradingview/${a.strategyId}`, { ...open(uniquePair()), secret: a.secret })).status);
        assert.deepEqual(statuses, [202, 202, 202, 429, 429]);
        assert.equal((await c.post(`/api/webhooks/tradingview/${b.strategyId}`, { ...open(uniquePair()), secret: b.secret })).status, 202);
      } finally { await local.stop(); }
    });
  });
});

describe('webhook secret rotation', () => {
  it('the old secret stops working at once, on this process and on another one that had it cached', async () => {
    const shared = { REDIS_PREFIX: `smtest:${uniquePair().slice(0, 8)}:` };
    const a = await startTestApp(shared, { redis: true });
    const b = await startTestApp(shared, { redis: true });
    try {
      const { author, strategyId, secret } = await seedStrategy(a);
      const hook = `/api/webhooks/tradingview/${strategyId}`;
      const body = (s: string) => ({ pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 100, secret: s });
      // Both processes have checked (and cached) the current secret.
      assert.equal((await client(a).post(hook, body(secret))).status, 202);
      assert.equal((await client(b).post(hook, body(secret))).status, 202);
      const rotated = await client(a).post(`/api/strategies/${strategyId}/webhook-secret`, undefined, author.token);
      assert.equal(rotated.status, 200);
      const fresh = rotated.body.webhookSecret as string;
      assert.equal((await client(a).post(hook, body(secret))).status, 401, 'old secret on the rotating process');
      let onB = 0;
      for (let i = 0; i < 50; i++) { onB = (await client(b).post(hook, body(secret))).status; if (onB === 401) break; await new Promise((r) => setTimeout(r, 20)); }
      assert.equal(onB, 401, 'old secret on the other process, well before the cache TTL');
      assert.equal((await client(b).post(hook, body(fresh))).status, 202);
      assert.equal((await client(a).post(hook, body(fresh))).status, 202);
    } finally { await b.stop(); await a.stop(); }
  });
});

describe('webhook auto-creation of strategies (AUTO_CREATE_STRATEGIES=true)', () => {
  it('creates a strategy first seen in a webhook, taking its secret, and then holds it to that secret', async () => {
    const app = await startTestApp({ AUTO_CREATE_STRATEGIES: 'true' });
    try {
      const id = crypto.randomUUID();
      const secret = 'first-secret-0123456789';
      const c = client(app);
      const r = await c.post(`/api/webhooks/tradingview/${id}`, { pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 5, secret });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const s = await app.db.prisma.strategy.findUnique({ where: { id } });
      assert.equal(s?.autoCreated, true);
      const wrong = await c.post(`/api/webhooks/tradingview/${id}`, { pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 5, secret: 'another-secret-0123456789' });
      assert.equal(wrong.status, 401);
    } finally { await app.stop(); }
  });
});

describe('concurrent signals on one strategy and pair', () => {
  let app: App;
  // No dedup window: a second CLOSE must meet the trade rules, not the repeat-delivery rule.
  before(async () => { app = await startTestApp({ DEDUP_WINDOW_MINUTES: '0' }); });
  after(async () => { await app?.stop(); });

  it('two CLOSEs racing for one trade: exactly one completes it (201), the other is told 409 NO_OPEN_TRADE, never 500', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const api = client(app);
    for (let round = 0; round < 5; round++) {
      const pair = uniquePair();
      assert.equal((await api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100 }, author.token)).status, 201);
      const answers = await Promise.all([
        api.post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 101, idempotencyKey: `a${round}` }, author.token),
        api.post('/api/signals', { strategyId, pair, action: 'CLOSE', price: 102, idempotencyKey: `b${round}` }, author.token),
      ]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
      assert.equal(answers.find((a) => a.status === 409)!.body.error.code, 'NO_OPEN_TRADE');
      assert.equal(await app.db.prisma.trade.count({ where: { strategyId, pair, status: 'COMPLETED' } }), 1);
    }
  });

  it('two different OPENs racing on a flat pair: one opens the trade, the other is refused 409, one trade exists', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const api = client(app);
    for (let round = 0; round < 5; round++) {
      const pair = uniquePair();
      const answers = await Promise.all([
        api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100 }, author.token),
        api.post('/api/signals', { strategyId, pair, action: 'OPEN', direction: 'SHORT', price: 100 }, author.token),
      ]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409], JSON.stringify(answers.map((a) => a.body)));
      assert.equal(await app.db.prisma.trade.count({ where: { strategyId, pair } }), 1);
    }
  });

  it('the same idempotencyKey sent twice at once is stored once and both answers carry the same signal', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const api = client(app);
    const pair = uniquePair();
    const body = { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100, idempotencyKey: 'same-key' };
    const answers = await Promise.all([api.post('/api/signals', body, author.token), api.post('/api/signals', body, author.token)]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 201]);
    assert.equal(answers[0]!.body.id, answers[1]!.body.id);
    assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 1);
  });
});

describe('group commit: signals arriving together share one transaction', () => {
  let app: App;
  before(async () => { app = await startTestApp(); });
  after(async () => { await app?.stop(); });

  it('a burst across strategies is decided in arrival order (OPEN then CLOSE of one pair, repeats by key and by window, refusals) with gapless seqs', async () => {
    const strategies = await Promise.all([1, 2, 3].map(() => seedStrategy(app)));
    const calls: { label: string; p: Promise<{ signal: { id: string; seq: number }; duplicate: boolean }> }[] = [];
    const accept = (label: string, input: Record<string, unknown>) => {
      const p = app.coordinator.accept(input as never, 'api');
      p.catch(() => {});
      calls.push({ label, p });
    };
    for (const { strategyId } of strategies) {
      for (let k = 0; k < 4; k++) {
        const pair = uniquePair();
        accept(`open ${k}`, { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100, idempotencyKey: `key-${pair}` });
        accept(`repeat ${k}`, { strategyId, pair, action: 'OPEN', direction: 'LONG', price: 100, idempotencyKey: `key-${pair}` });
        accept(`close ${k}`, { strategyId, pair, action: 'CLOSE', price: 110 });
        accept(`close-again ${k}`, { strategyId, pair, action: 'CLOSE', price: 111 });
        accept(`close-nothing ${k}`, { strategyId, pair: uniquePair(), action: 'CLOSE', price: 111 });
      }
    }
    const settled = await Promise.allSettled(calls.map((c) => c.p));
    const accepted: { id: string; seq: number }[] = [];
    settled.forEach((r, i) => {
      const label = calls[i]!.label;
      if (label.startsWith('open') || label.startsWith('close ')) {
        assert.equal(r.status, 'fulfilled', `${label}: ${(r as PromiseRejectedResult).reason}`);
        const v = (r as PromiseFulfilledResult<{ signal: { id: string; seq: number }; duplicate: boolean }>).value;
        assert.equal(v.duplicate, false, label);
        accepted.push(v.signal);
      } else if (label.startsWith('repeat') || label.startsWith('close-again')) {
        assert.equal(r.status, 'fulfilled');
        const v = (r as PromiseFulfilledResult<{ signal: { id: string }; duplicate: boolean }>).value;
        assert.equal(v.duplicate, true);
        assert.equal(v.signal.id, (settled[i - 1] as PromiseFulfilledResult<{ signal: { id: string } }>).value.signal.id, `${label} answers with the original`);
      } else {
        assert.equal(r.status, 'rejected', label);
        assert.equal(((r as PromiseRejectedResult).reason as { code: string }).code, 'NO_OPEN_TRADE');
      }
    });
    // Seqs follow arrival order and have no gap.
    for (let i = 1; i < accepted.length; i++) assert.equal(accepted[i]!.seq, accepted[i - 1]!.seq + 1);
    // Every trade was opened and closed with its PnL, and each strategy's hash chain verifies.
    for (const { strategyId } of strategies) {
      const trades = await app.db.prisma.trade.findMany({ where: { strategyId } });
      assert.equal(trades.length, 4);
      for (const t of trades) { assert.equal(t.status, 'COMPLETED'); assert.equal(Number(t.pnlPct), 10); }
      const r = await client(app).get(`/api/strategies/${strategyId}/verify`);
      assert.equal(r.status, 200);
      assert.equal(r.body.chain.ok, true, JSON.stringify(r.body.chain));
      assert.equal(r.body.signals, 8);
    }
    // Fewer transactions than signals: the burst was grouped.
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const count = Number(/signal_accept_batch_signals_count(?:\{[^}]*\})? (\d+)/.exec(text)?.[1]);
    const sum = Number(/signal_accept_batch_signals_sum(?:\{[^}]*\})? (\d+)/.exec(text)?.[1]);
    assert.ok(sum >= calls.length && count < sum, `batches ${count} for ${sum} signals`);
  });

  it('when a batch fails in the database, its signals are retried alone: only the bad one fails, seqs stay gapless', async () => {
    const { strategyId } = await seedStrategy(app);
    const pg = app.db.pool;
    await pg.query(`CREATE OR REPLACE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.note = 'poison' THEN RAISE EXCEPTION 'poisoned signal'; END IF; RETURN NEW; END $$`);
    await pg.query(`DROP TRIGGER IF EXISTS test_poison ON "Signal"; CREATE TRIGGER test_poison BEFORE INSERT ON "Signal" FOR EACH ROW EXECUTE FUNCTION test_poison()`);
    try {
      const inputs = Array.from({ length: 12 }, (_, i) => ({ strategyId, pair: uniquePair(), action: 'OPEN', direction: 'LONG', price: 10, note: i === 5 ? 'poison' : `ok ${i}` }));
      const settled = await Promise.allSettled(inputs.map((x) => app.coordinator.accept(x as never, 'api')));
      const ok = settled.filter((r): r is PromiseFulfilledResult<AcceptResult> => r.status === 'fulfilled');
      assert.equal(ok.length, 11);
      assert.equal(settled[5]!.status, 'rejected');
      assert.match(String((settled[5] as PromiseRejectedResult).reason), /poisoned signal/);
      const seqs = ok.map((r) => r.value.signal.seq);
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1);
      assert.equal(await app.db.prisma.signal.count({ where: { strategyId } }), 11);
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS test_poison ON "Signal"; DROP FUNCTION IF EXISTS test_poison()');
    }
  });
});
