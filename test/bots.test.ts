/**
 * Strategy bots REST (/api/strategies/:id/bots): every bad parameter is a 400 naming its field and stores
 * nothing; the per-author limit holds under concurrent creates (409 BOT_LIMIT_REACHED); only the strategy's
 * author lists, edits, enables, previews or deletes its bots; the author's webhook view (full URL from
 * PUBLIC_BASE_URL or the request, honouring TRUST_PROXY) and counts. With the real capturer (Chromium) and
 * the fake Binance's candles: an enabled bot is visited and a disabled one is not, while another bot is.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { App } from '../src/app.js';
import type { capturerComponent } from '../src/capture/index.js';
import { client, registerUser, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { waitFor } from './support/wait.js';

type CapturerComponent = ReturnType<typeof capturerComponent>;
const MIN = 60_000;
const MA = { builtin: 'ma-crossover', params: { fast: 2, slow: 4, kind: 'sma' }, timeframe: '1m' };

const startedAt = new Date();

describe('strategy bots REST', function () {
  this.timeout(30_000);
  let app: App;
  let api: ReturnType<typeof client>;
  const PAIR = 'BTC/USDT';
  before(async () => {
    app = await startTestApp({ BOTS_PER_AUTHOR: '2', TRUST_PROXY: 'loopback' });
    api = client(app);
  });
  // Enabled bots left in the shared test database would be visited by the capturer of later test files.
  after(async () => { await app?.db.prisma.tradingBot.updateMany({ where: { createdAt: { gte: startedAt } }, data: { enabled: false } }).catch(() => {}); await app?.stop(); });

  const bots = (id: string, token: string) => api.get(`/api/strategies/${id}/bots`, token);
  const create = (id: string, token: string, body: Record<string, unknown>) => api.post(`/api/strategies/${id}/bots`, body, token);

  it('refuses every bad parameter with a 400 naming the field, and stores nothing', async () => {
    const { author, strategyId } = await seedStrategy(app, { pairs: [PAIR, 'ETH/USDT'] });
    const cases: [string, Record<string, unknown>, string, string?][] = [
      ['unknown builtin', { builtin: 'martingale' }, 'builtin'],
      ['fast 0', { params: { fast: 0, slow: 4 } }, 'params.fast'],
      ['fast not whole', { params: { fast: 2.5, slow: 4 } }, 'params.fast'],
      ['fast as text', { params: { fast: '2', slow: 4 } }, 'params.fast'],
      ['fast >= slow', { params: { fast: 21, slow: 9 } }, 'params.fast'],
      ['slow beyond the candles', { params: { fast: 2, slow: 500 } }, 'params.slow'],
      ['unknown average', { params: { fast: 2, slow: 4, kind: 'wma' } }, 'params.kind'],
      ['unknown parameter', { params: { fast: 2, slow: 4, leverage: 10 } }, 'params'],
      ['params an array', { params: [1, 2] }, 'params'],
      ['rsi period 1', { builtin: 'rsi-divergence', params: { period: 1 } }, 'params.period'],
      ['rsi lookback 1', { builtin: 'rsi-divergence', params: { lookback: 1 } }, 'params.lookback'],
      ['rsi oversold above overbought', { builtin: 'rsi-divergence', params: { oversold: 80, overbought: 70 } }, 'params.oversold'],
      ['rsi overbought 101', { builtin: 'rsi-divergence', params: { overbought: 101 } }, 'params.overbought'],
      ['bollinger period 1', { builtin: 'bollinger-breakout', params: { period: 1 } }, 'params.period'],
      ['bollinger stdDev 0', { builtin: 'bollinger-breakout', params: { stdDev: 0 } }, 'params.stdDev'],
      ['bollinger stdDev above sqrt(period - 1)', { builtin: 'bollinger-breakout', params: { period: 20, stdDev: 4.5 } }, 'params.stdDev'],
      ['macd signal 0', { builtin: 'macd-trend', params: { signal: 0 } }, 'params.signal'],
      ['macd fast >= slow', { builtin: 'macd-trend', params: { fast: 30, slow: 26 } }, 'params.fast'],
      ['no pairs', { pairs: [] }, 'pairs'],
      ['malformed pair', { pairs: ['BTCUSDT'] }, 'pairs.0'],
      ['six pairs', { pairs: ['A1/USDT', 'A2/USDT', 'A3/USDT', 'A4/USDT', 'A5/USDT', 'A6/USDT'] }, 'pairs'],
      ['pair not in the strategy', { pairs: ['SOL/USDT'] }, 'pairs', 'PAIR_NOT_IN_STRATEGY'],
      ['1s timeframe', { timeframe: '1s' }, 'timeframe'],
      ['unknown timeframe', { timeframe: '7m' }, 'timeframe'],
      ['exchange not a chart exchange', { exchange: 'kraken' }, 'exchange', 'CHART_EXCHANGE_NOT_CONFIGURED'],
      ['a read-only field', { captures: 5 }, ''],
      ['enabled not a boolean', { enabled: 'yes' }, 'enabled'],
    ];
    const wrong: string[] = [];
    for (const [what, patch, field, code = 'VALIDATION_FAILED'] of cases) {
      const body = { ...MA, pairs: [PAIR], ...patch, params: 'params' in patch ? patch.params : MA.params };
      if ('builtin' in patch && !('params' in patch)) delete (body as { params?: unknown }).params;
      const r = await create(strategyId, author.token, body);
      const got = `${r.status} ${r.body?.error?.code} ${r.body?.error?.details?.field}`;
      if (r.status !== 400 || r.body.error.code !== code || (field && r.body.error.details?.field !== field)) wrong.push(`${what}: ${got} ${r.body?.error?.message}`);
      else assert.ok(r.body.error.message.length > 5, `${what}: a reason`);
    }
    assert.deepEqual(wrong, []);
    assert.equal(await app.db.prisma.tradingBot.count({ where: { strategyId } }), 0);

    const ok = await create(strategyId, author.token, { ...MA, pairs: [PAIR] });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.enabled, ok.body.params, ok.body.exchange, ok.body.captures], [false, MA.params, 'binance', 0], 'disabled by default');
    const defaults = await create(strategyId, author.token, { builtin: 'macd-trend', pairs: ['eth/usdt'], timeframe: '4h' });
    assert.equal(defaults.status, 201, JSON.stringify(defaults.body));
    assert.deepEqual([defaults.body.params, defaults.body.pairs], [{ fast: 12, slow: 26, signal: 9 }, ['ETH/USDT']], 'missing params take the defaults');
    const at = `/api/strategies/${strategyId}/bots/${ok.body.id}`;
    for (const [what, body, field] of [['empty patch', {}, ''], ['bad param', { params: { slow: 1 } }, 'params.slow'], ['bad kind switch', { builtin: 'bollinger-breakout', params: { stdDev: 9 } }, 'params.stdDev']] as const) {
      const r = await api.patch(at, body, author.token);
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      if (field) assert.equal(r.body.error.details.field, field, what);
    }
    assert.deepEqual((await api.get(at, author.token)).body.params, MA.params, 'a refused patch changes nothing');
    const switched = await api.patch(at, { builtin: 'rsi-divergence' }, author.token);
    assert.deepEqual(switched.body.params, { period: 14, lookback: 20, oversold: 30, overbought: 70 }, 'a new kind starts from its defaults');
  });

  it('limits bots per author (BOTS_PER_AUTHOR=2) across their strategies, also when creates race; deleting frees a place', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const second = await api.post('/api/strategies', { name: `second ${randomUUID().slice(0, 4)}` }, author.token);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => create(i % 2 ? second.body.id : strategyId, author.token, { ...MA, pairs: [PAIR] })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 409, 409, 409]);
    const refused = results.find((r) => r.status === 409)!;
    assert.equal(refused.body.error.code, 'BOT_LIMIT_REACHED');
    assert.match(refused.body.error.message, /limit per author is 2/);
    assert.equal(await app.db.prisma.tradingBot.count({ where: { userId: author.user.id } }), 2);
    const list = await bots(strategyId, author.token);
    assert.deepEqual([list.body.used, list.body.limit], [2, 2]);
    const mine = results.filter((r) => r.status === 201)[0]!.body;
    assert.equal((await api.del(`/api/strategies/${mine.strategyId}/bots/${mine.id}`, author.token)).status, 204);
    assert.equal((await create(strategyId, author.token, { ...MA, pairs: [PAIR] })).status, 201);
    // Another author has a limit of their own.
    const other = await seedStrategy(app);
    assert.equal((await create(other.strategyId, other.author.token, { ...MA, pairs: [PAIR] })).status, 201);
  });

  it('only the strategy author may list, read, edit, enable, preview, see the screenshot of or delete its bots', async () => {
    const { author, strategyId } = await seedStrategy(app);
    const bot = (await create(strategyId, author.token, { ...MA, pairs: [PAIR] })).body;
    const stranger = await seedStrategy(app);
    const user = await registerUser(app);
    const at = `/api/strategies/${strategyId}/bots/${bot.id}`;
    for (const who of [stranger.author, user]) {
      const calls = [
        await bots(strategyId, who.token), await api.get(at, who.token), await api.patch(at, { enabled: true }, who.token),
        await api.get(`${at}/preview`, who.token), await api.get(`${at}/screenshot`, who.token), await api.del(at, who.token),
        await create(strategyId, who.token, { ...MA, pairs: [PAIR] }), await api.get(`/api/strategies/${strategyId}/authoring`, who.token),
      ];
      assert.deepEqual(calls.map((c) => `${c.status} ${c.body?.error?.code}`), Array(8).fill('403 FORBIDDEN'));
    }
    // The stranger's own strategy does not reach someone else's bot: BOT_NOT_FOUND, not the bot.
    const cross = await api.patch(`/api/strategies/${stranger.strategyId}/bots/${bot.id}`, { enabled: true }, stranger.author.token);
    assert.deepEqual([cross.status, cross.body.error.code], [404, 'BOT_NOT_FOUND']);
    assert.equal((await api.get(at)).status, 401);
    assert.equal((await api.patch(at, { enabled: true })).status, 401);
    assert.deepEqual([(await bots(randomUUID(), author.token)).body.error.code, (await api.get(`/api/strategies/${strategyId}/bots/not-a-uuid`, author.token)).body.error.code], ['STRATEGY_NOT_FOUND', 'BOT_NOT_FOUND']);
    const stored = await app.db.prisma.tradingBot.findUniqueOrThrow({ where: { id: bot.id } });
    assert.equal(stored.enabled, false, 'still disabled');
    const noShot = await api.get(`${at}/screenshot`, author.token);
    assert.deepEqual([noShot.status, noShot.body.error.code], [404, 'SCREENSHOT_NOT_FOUND']);
    // A stored name is checked again before it is served: a path outside the evidence directory is never read.
    await app.db.prisma.tradingBot.update({ where: { id: bot.id }, data: { lastScreenshot: '../../etc/passwd' } });
    assert.equal((await api.get(`${at}/screenshot`, author.token)).status, 404);
    const enabled = await api.patch(at, { enabled: true }, author.token);
    assert.deepEqual([enabled.status, enabled.body.enabled], [200, true]);
    assert.deepEqual([(await api.del(at, author.token)).status, (await api.get(at, author.token)).status], [204, 404]);
  });

  it('a failure shown to the author carries its reason without our addresses, and counts', async () => {
    const { BotStore } = await import('../src/capture/bot-store.js');
    const { author, strategyId } = await seedStrategy(app);
    const bot = (await create(strategyId, author.token, { ...MA, pairs: [PAIR] })).body;
    const store = new BotStore({ prisma: app.db.prisma, intervalSeconds: 30 });
    await store.failed(bot.id, 'page_error', 'net::ERR_CONNECTION_REFUSED at http://10.1.2.3:3000/charts/x?pair=BTC/USDT');
    await store.captured(bot.id, 'shot.png');
    await store.signalled(bot.id, 2);
    const r = (await api.get(`/api/strategies/${strategyId}/bots/${bot.id}`, author.token)).body;
    assert.deepEqual([r.failures, r.captures, r.signals, r.lastFailure], [1, 1, 2, 'page_error: net::ERR_CONNECTION_REFUSED at <url>']);
    assert.equal(r.screenshotUrl, `/api/strategies/${strategyId}/bots/${bot.id}/screenshot`);
    assert.ok(r.lastCaptureAt && r.lastFailureAt);
  });

  it('the author view: full webhook URL from the request (X-Forwarded-* only from a trusted proxy), alert messages the webhook accepts, counts', async () => {
    const { author, strategyId, secret } = await seedStrategy(app, { pairs: [PAIR] });
    const view = await api.get(`/api/strategies/${strategyId}/authoring`, author.token);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.webhookUrl, `${app.url}/api/webhooks/tradingview/${strategyId}`);
    assert.equal(view.body.baseUrlSource, 'request');
    const created = await api.post('/api/strategies', { name: 'absolute webhook' }, author.token);
    assert.equal(created.body.webhookUrl, `${app.url}/api/webhooks/tradingview/${created.body.id}`, 'POST /api/strategies answers the full URL too');
    // The test client is on loopback, which TRUST_PROXY=loopback trusts: its forwarded origin counts.
    const fwd = await fetch(`${app.url}/api/strategies/${strategyId}/authoring`, { headers: { authorization: `Bearer ${author.token}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'signals.example.com' } });
    assert.equal((await fwd.json()).webhookUrl, `https://signals.example.com/api/webhooks/tradingview/${strategyId}`);
    // Each message, filled in as TradingView would, is accepted by the webhook.
    const fill = (m: string, close: string) => JSON.parse(m.replace(view.body.secretPlaceholder, secret).replaceAll('{{ticker}}', 'BINANCE:BTCUSDT').replaceAll('{{close}}', close)
      .replaceAll('{{timenow}}', new Date().toISOString()).replace('{{strategy.market_position}}', 'long').replace('{{strategy.prev_market_position}}', 'flat'));
    const posts = [];
    for (const [kind, close] of [['open', '100.5'], ['close', '101'], ['strategy', '102']] as const) {
      const r = await fetch(view.body.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fill(view.body.alertMessages[kind], close)) });
      posts.push(`${kind} ${r.status}`);
    }
    assert.deepEqual(posts, ['open 202', 'close 202', 'strategy 202']);
    const sigs = (await api.get(`/api/strategies/${strategyId}/signals`)).body.signals;
    assert.deepEqual(sigs.map((s: any) => [s.pair, s.action, s.direction, s.price]), [[PAIR, 'OPEN', 'LONG', 100.5], [PAIR, 'CLOSE', 'LONG', 101], [PAIR, 'OPEN', 'LONG', 102]]);
    const user = await registerUser(app);
    assert.equal((await api.post('/api/subscriptions', { strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 50 } }, user.token)).status, 201);
    const counts = (await api.get(`/api/strategies/${strategyId}/authoring`, author.token)).body.counts;
    assert.deepEqual([counts.signals, counts.subscribers.active, counts.bots], [3, 1, { enabled: 0, disabled: 0 }]);
  });

  it('PUBLIC_BASE_URL, when set, is the webhook URL origin whatever the request says (the authoring view and POST /api/strategies alike); an untrusted X-Forwarded-Host is ignored', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example.net' };
    const view = async (a: App, strategyId: string, token: string) =>
      (await (await fetch(`${a.url}/api/strategies/${strategyId}/authoring`, { headers: { authorization: `Bearer ${token}`, ...forwarded } })).json()).webhookUrl;
    const configured = await startTestApp({ PUBLIC_BASE_URL: 'https://signals.example.org/sm/' });
    const untrusting = await startTestApp({ TRUST_PROXY: 'false' });
    try {
      const s1 = await seedStrategy(configured);
      assert.equal(await view(configured, s1.strategyId, s1.author.token), `https://signals.example.org/sm/api/webhooks/tradingview/${s1.strategyId}`);
      const s2 = await seedStrategy(untrusting);
      assert.equal(await view(untrusting, s2.strategyId, s2.author.token), `${untrusting.url}/api/webhooks/tradingview/${s2.strategyId}`);
      // Creating a strategy answers the same absolute URL.
      const created = await fetch(`${configured.url}/api/strategies`, { method: 'POST', headers: { authorization: `Bearer ${s1.author.token}`, 'content-type': 'application/json', ...forwarded }, body: JSON.stringify({ name: 'absolute webhook' }) });
      const body = await created.json();
      assert.equal(created.status, 201);
      assert.equal(body.webhookUrl, `https://signals.example.org/sm/api/webhooks/tradingview/${body.id}`);
      assert.equal(body.webhookUrl, await view(configured, body.id, s1.author.token));
    } finally { await configured.stop(); await untrusting.stop(); }
  });
});

describe('strategy bots in the capturer (real Chromium)', function () {
  this.timeout(60_000);
  let fake: FakeBinance;
  let app: App;
  let comp: CapturerComponent;
  const pairs = [uniquePair(), uniquePair()];

  before(async () => {
    fake = new FakeBinance({ markets: pairs.map((p) => ({ base: p.split('/')[0]!, quote: 'USDT', price: '100', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '1' })) });
    await fake.start();
    const base = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
    // Flat candles: pages draw, no marker (so visits are counted, no signal is involved).
    for (const p of pairs) fake.setCandles(p, '1m', Array.from({ length: 10 }, (_, i) => ({ openTime: base + i * MIN, open: 100, high: 101, low: 99, close: 100, volume: 5 })));
    app = await startTestApp({
      ROLES: 'api,store,capturer', EXCHANGE_URL_BINANCE: fake.origin, BOT_INTERVAL_SECONDS: '0.2',
      CAPTURE_TARGETS_RELOAD_MS: '60000', CAPTURE_PAGE_TIMEOUT_MS: '5000', CHART_CANDLE_CACHE_MS: '0',
    });
    comp = app.components.find((c) => c.name === 'capturer') as CapturerComponent;
  });
  after(async () => {
    await app?.db.prisma.tradingBot.deleteMany({ where: { pairs: { hasSome: pairs } } }).catch(() => {});
    await app?.stop();
    await fake?.stop();
  });

  it('enabling a bot makes the capturer visit it without a restart (bus, not the 60 s reload); a disabled bot is not visited while another one is', async () => {
    const api = client(app);
    const a = await seedStrategy(app, { pairs });
    const b = await seedStrategy(app, { pairs });
    const botA = (await api.post(`/api/strategies/${a.strategyId}/bots`, { ...MA, pairs: [pairs[0]] }, a.author.token)).body;
    const botB = (await api.post(`/api/strategies/${b.strategyId}/bots`, { ...MA, pairs: [pairs[1]], enabled: true }, b.author.token)).body;
    const stats = async (id: string) => app.db.prisma.tradingBot.findUniqueOrThrow({ where: { id } });
    await waitFor('bot B visited', async () => (await stats(botB.id)).captures >= 1);
    assert.equal((await stats(botA.id)).captures + (await stats(botA.id)).failures, 0, 'a disabled bot is not visited');
    assert.ok(!comp.capturer.targets().some((t) => t.botId === botA.id));

    assert.equal((await api.patch(`/api/strategies/${a.strategyId}/bots/${botA.id}`, { enabled: true }, a.author.token)).status, 200);
    await waitFor('bot A visited', async () => (await stats(botA.id)).captures >= 2);
    const page = await api.get(`/api/strategies/${a.strategyId}/bots/${botA.id}`, a.author.token);
    assert.ok(page.body.lastCaptureAt, 'the last capture shows');

    assert.equal((await api.patch(`/api/strategies/${a.strategyId}/bots/${botA.id}`, { enabled: false }, a.author.token)).status, 200);
    await waitFor('bot A dropped', () => !comp.capturer.targets().some((t) => t.botId === botA.id));
    // A visit under way when it was dropped records nothing; let any write already sent land (bot B visited twice), then count.
    const bSettle = (await stats(botB.id)).captures;
    await waitFor('two more visits of bot B', async () => (await stats(botB.id)).captures >= bSettle + 2);
    const frozen = (await stats(botA.id)).captures;
    const bNow = (await stats(botB.id)).captures;
    await waitFor('five more visits of bot B', async () => (await stats(botB.id)).captures >= bNow + 5);
    assert.equal((await stats(botA.id)).captures, frozen, 'no visit of the disabled bot while bot B was visited five times');

    assert.equal((await api.del(`/api/strategies/${b.strategyId}/bots/${botB.id}`, b.author.token)).status, 204);
    assert.equal((await api.del(`/api/strategies/${a.strategyId}/bots/${botA.id}`, a.author.token)).status, 204);
    await waitFor('bot B dropped', () => !comp.capturer.targets().some((t) => t.botId === botB.id));
  });
});
