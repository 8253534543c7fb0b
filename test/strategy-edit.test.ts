/**
 * PATCH /api/strategies/:id: the author (or an admin) edits name, description, pairs and maxLagSeconds;
 * nobody else can; bad input is a 400; the new pair list applies to the next signal (a trade open on a
 * dropped pair can still be closed); the change is announced on the bus.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import { TOPICS } from '../src/bus/index.js';
import { client, registerUser, seedStrategy, startTestApp, uniquePair } from './support/app.js';

describe('editing a strategy (PATCH /api/strategies/:id)', function () {
  this.timeout(20_000);
  let app: App;
  let api: ReturnType<typeof client>;
  before(async () => { app = await startTestApp(); api = client(app); });
  after(async () => { await app?.stop(); });

  const pairsOf = async (id: string) => (await app.db.prisma.strategy.findUniqueOrThrow({ where: { id } })).pairs;

  it('the author edits pairs (upper-cased, deduplicated), name, description and maxLagSeconds; the page and the list show them; strategy.changed is published', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    const announced = new Promise<unknown>((resolve) => {
      const off = app.bus.subscribe(TOPICS.strategyChanged, (m) => { if ((m as { strategyId: string }).strategyId === strategyId) { off(); resolve(m); } });
    });
    const r = await api.patch(`/api/strategies/${strategyId}`, { pairs: ['eth/usdt', ' ETH/USDT', 'sol/usdt'], name: '  Renamed ', description: 'new text', maxLagSeconds: 300 }, author.token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.id, r.body.name, r.body.description, r.body.pairs, r.body.maxLagSeconds], [strategyId, 'Renamed', 'new text', ['ETH/USDT', 'SOL/USDT'], 300]);
    assert.deepEqual(await announced, { strategyId });
    assert.deepEqual((await api.get(`/api/strategies/${strategyId}`)).body.pairs, ['ETH/USDT', 'SOL/USDT']);
    const listed = (await api.get('/api/strategies')).body.strategies.find((s: { id: string }) => s.id === strategyId);
    assert.deepEqual([listed.name, listed.pairs], ['Renamed', ['ETH/USDT', 'SOL/USDT']]);
    // A partial edit leaves the rest alone; an empty list means any pair the reference exchange lists.
    const any = await api.patch(`/api/strategies/${strategyId}`, { pairs: [] }, author.token);
    assert.deepEqual([any.body.name, any.body.pairs, any.body.maxLagSeconds], ['Renamed', [], 300]);
  });

  it('refuses a stranger: another author 403, a user 403, no token 401, an unknown strategy 404, and the pairs stay as they were', async () => {
    const { strategyId } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    const other = await registerUser(app, 'AUTHOR');
    const user = await registerUser(app);
    const r = await api.patch(`/api/strategies/${strategyId}`, { pairs: ['ETH/USDT'] }, other.token);
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'FORBIDDEN');
    assert.equal((await api.patch(`/api/strategies/${strategyId}`, { pairs: ['ETH/USDT'] }, user.token)).status, 403);
    assert.equal((await api.patch(`/api/strategies/${strategyId}`, { pairs: ['ETH/USDT'] })).status, 401);
    assert.equal((await api.patch(`/api/strategies/${randomUUID()}`, { pairs: ['ETH/USDT'] }, other.token)).status, 404);
    assert.deepEqual(await pairsOf(strategyId), ['BTC/USDT']);
  });

  it('lets an admin edit any strategy', async () => {
    const { strategyId } = await seedStrategy(app);
    const u = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: u.user.id }, data: { role: 'ADMIN' } });
    const admin = app.tokens.sign({ id: u.user.id, role: 'ADMIN' });
    const r = await api.patch(`/api/strategies/${strategyId}`, { pairs: ['ADA/USDT'] }, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(await pairsOf(strategyId), ['ADA/USDT']);
  });

  it('answers bad input with 400 naming the field and changes nothing', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    const cases: [unknown, RegExp][] = [
      [{ pairs: ['BTCUSDT'] }, /^pairs\.0: must look like BASE\/QUOTE/],
      [{ pairs: Array.from({ length: 201 }, (_, i) => `P${i}/USDT`) }, /^pairs:/],
      [{ pairs: 'BTC/USDT' }, /^pairs:/],
      [{ maxLagSeconds: 0 }, /^maxLagSeconds:/],
      [{ maxLagSeconds: 86_401 }, /^maxLagSeconds:/],
      [{ maxLagSeconds: 1.5 }, /^maxLagSeconds:/],
      [{ name: '   ' }, /^name:/],
      [{ description: 'x'.repeat(5001) }, /^description:/],
      [{}, /at least one of/],
      [{ webhookSecretHash: 'x' }, /webhookSecretHash/],
    ];
    for (const [body, message] of cases) {
      const r = await api.patch(`/api/strategies/${strategyId}`, body, author.token);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'VALIDATION_FAILED');
      assert.match(r.body.error.message, message);
    }
    const s = await app.db.prisma.strategy.findUniqueOrThrow({ where: { id: strategyId } });
    assert.deepEqual([s.pairs, s.maxLagSeconds], [['BTC/USDT'], 60]);
  });

  it('allows 200 pairs, and 200 with duplicates collapse to the distinct ones', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const many = Array.from({ length: 200 }, (_, i) => `P${i}/USDT`);
    assert.equal((await api.patch(`/api/strategies/${strategyId}`, { pairs: many }, author.token)).body.pairs.length, 200);
    const dup = await api.patch(`/api/strategies/${strategyId}`, { pairs: [...Array(100).fill('btc/usdt'), ...Array(100).fill('ETH/USDT')] }, author.token);
    assert.deepEqual(dup.body.pairs, ['BTC/USDT', 'ETH/USDT']);
  });

  it('after the author narrows the pairs, an OPEN on a dropped pair is refused (400 PAIR_NOT_IN_STRATEGY) while the CLOSE of the trade still open there is accepted', async () => {
    const [held, other] = [uniquePair(), uniquePair()];
    const { author, strategyId } = await seedStrategy(app, { pairs: [held, other] });
    const open = await api.post('/api/signals', { strategyId, pair: held, action: 'OPEN', direction: 'LONG', price: 10 }, author.token);
    assert.equal(open.status, 201, JSON.stringify(open.body));
    assert.equal((await api.patch(`/api/strategies/${strategyId}`, { pairs: [other] }, author.token)).status, 200);
    const refused = await api.post('/api/signals', { strategyId, pair: held, action: 'OPEN', direction: 'SHORT', price: 10 }, author.token);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'PAIR_NOT_IN_STRATEGY');
    const close = await api.post('/api/signals', { strategyId, pair: held, action: 'CLOSE', price: 11 }, author.token);
    assert.equal(close.status, 201, JSON.stringify(close.body));
    assert.equal((await api.post('/api/signals', { strategyId, pair: held, action: 'OPEN', direction: 'LONG', price: 10 }, author.token)).status, 400);
    assert.equal((await api.post('/api/signals', { strategyId, pair: other, action: 'OPEN', direction: 'LONG', price: 10 }, author.token)).status, 201);
  });
});
