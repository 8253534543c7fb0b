/**
 * Every page of the site in real Chromium (puppeteer-core, Debian /usr/bin/chromium), in every role and
 * state: anonymous, a user without and with subscriptions, an author (own strategy with and without signals,
 * a bot), an admin; lists filled and empty; at 1280 and 375 px. On each page: no console error, no uncaught
 * exception, no failed request or error response (except the deliberate 404s), no horizontal overflow, no
 * table out of the content column, and axe-core reports no serious or critical accessibility violation
 * (every <details> opened first, so the forms inside are checked too). Screenshots in test-output/pages/.
 * One browser; the role × width groups run in parallel tabs.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';
import { axeViolations, launchChromium, openVisit, overflow, settle, spilling, type Visitor } from './support/site-browser.js';

const OUT = 'test-output/pages';
const WIDTHS = [1280, 375] as const;
const PARALLEL = 3;

type Role = 'anonymous' | 'user-empty' | 'user' | 'author' | 'admin';

/** Dates not shown the site's way: a <time> without its UTC title, or an ISO timestamp left in the text. */
const rawDates = (page: Page) => page.evaluate(() => [
  ...[...document.querySelectorAll('main time')].filter((t) => !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(t.getAttribute('title') ?? '')).map((t) => `date without its UTC title: ${t.outerHTML}`),
  ...(document.querySelector('main')?.innerText.match(/\d{4}-\d\d-\d\dT\d\d:\d\d[^\s]*/g) ?? []).map((x) => `raw ISO date in the text: ${x}`),
]);

describe('site pages in Chromium: every page × role × state at 1280 and 375 px, checked by axe-core', function () {
  this.timeout(240_000); // a group runs 10-70 s on 2 loaded cores; its test only waits for it
  let app: App;
  let browser: Browser;
  const who = new Map<Role, Visitor | null>();
  const pages = new Map<Role, [string, string][]>();
  const results = new Map<string, Promise<string[]>>();
  const unknownStrategy = randomUUID();
  const nothing = `zz${randomUUID().slice(0, 8)}`;
  const deliberate = (url: string) => url.includes('/no/such/page') || url.includes(`/api/strategies/${unknownStrategy}`) || url.endsWith(`/strategies/${unknownStrategy}`);

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    app = await startTestApp({ ROLES: 'api', TRADING_MODE: 'paper' });
    const c = client(app);
    // The author's two strategies: one with signals (a closed and an open trade) and a bot, one empty.
    const filled = await seedStrategy(app, { name: `Pages ${randomUUID().slice(0, 4)} with a rather long strategy name for small screens`, pairs: ['ETH/USDT', 'BTC/USDT'], description: 'Trend following on ETH.' });
    const author = filled.author;
    const empty = await c.post('/api/strategies', { name: `Pages empty ${randomUUID().slice(0, 4)}`, pairs: ['BTC/USDT'] }, author.token);
    assert.equal(empty.status, 201);
    const ids: string[] = [];
    for (const [action, price, extra] of [['OPEN', 2999.997, { stopLoss: 2900.5, takeProfit: 3200 }], ['CLOSE', 3050, {}], ['OPEN', 3100, {}]] as const) {
      const r = await c.post('/api/signals', { strategyId: filled.strategyId, pair: 'ETH/USDT', action, direction: 'LONG', price, ...extra }, author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    await setMarketPrices(app, filled.strategyId, new Map(ids.map((id, i) => [id, [2999.997, 3050, 3100][i]!])));
    const bot = await c.post(`/api/strategies/${filled.strategyId}/bots`, { builtin: 'ma-crossover', params: { fast: 9, slow: 21, kind: 'ema' }, pairs: ['ETH/USDT'], timeframe: '1h' }, author.token);
    assert.equal(bot.status, 201, JSON.stringify(bot.body));
    await app.db.prisma.tradingBot.update({ where: { id: bot.body.id }, data: { captures: 3, failures: 1, lastFailure: 'timeout waiting for the chart', lastCaptureAt: new Date() } });

    const userEmpty = await registerUser(app);
    // The user with subscriptions: a spot one with executions, and a futures one (leverage fields on its card).
    const user = await registerUser(app);
    const sub = await c.post('/api/subscriptions', { strategyId: filled.strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 } }, user.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const futures = await c.post('/api/subscriptions', { strategyId: empty.body.id, exchange: 'bybit', market: 'futures', leverage: 3, marginMode: 'isolated', sizing: { mode: 'quote', amount: 50 } }, user.token);
    assert.equal(futures.status, 201, JSON.stringify(futures.body));
    const base = { userId: user.user.id, subscriptionId: sub.body.id, exchange: 'binance', pair: 'ETH/USDT', paper: true, executedAt: new Date() };
    await app.db.prisma.executionLog.createMany({ data: [
      { ...base, signalId: ids[0]!, clientOrderId: `p-${randomUUID()}`, status: 'SUCCESS', side: 'buy', action: 'OPEN', amount: '0.348721560000', price: '2999.997000000000', orderId: 'paper-1' },
      { ...base, signalId: ids[1]!, clientOrderId: `p-${randomUUID()}`, status: 'SUCCESS', side: 'sell', action: 'CLOSE', amount: '0.348721560000', price: '3050', orderId: 'paper-2', realisedPnl: '-2.651275440000' },
      { ...base, signalId: ids[2]!, clientOrderId: `p-${randomUUID()}`, status: 'FAILED', side: 'buy', action: 'OPEN', error: 'INSUFFICIENT_FUNDS: Account has insufficient balance for requested action.' },
    ] });
    let admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    const li = await c.post('/api/auth/login', { email: admin.user.email, password: 'correct horse battery' });
    admin = { ...admin, token: li.body.token, user: li.body.user };

    const strategy = `/strategies/${filled.strategyId}`;
    const emptyStrategy = `/strategies/${empty.body.id}`;
    const mine: [string, string][] = [['subscriptions', '/subscriptions'], ['executions', '/executions'], ['notifications', '/notifications']];
    // Pages whose content does not depend on the role beyond the header are visited once in the empty state (user-empty).
    who.set('anonymous', null).set('user-empty', userEmpty).set('user', user).set('author', author).set('admin', admin);
    pages.set('anonymous', [['marketplace', '/'], ['marketplace-empty', `/?q=${nothing}`], ['strategy', strategy], ['strategy-empty', emptyStrategy],
      ['login', '/login'], ['register', '/register'], ['api-docs', '/api/docs'], ['unknown-path', '/no/such/page'], ['unknown-strategy', `/strategies/${unknownStrategy}`]]);
    pages.set('user-empty', [['marketplace', '/'], ['strategy', strategy], ['strategy-empty', emptyStrategy], ...mine]);
    pages.set('user', [['strategy', strategy], ...mine]);
    pages.set('author', [['marketplace', '/'], ['strategy', strategy], ['strategy-empty', emptyStrategy], ['notifications', '/notifications']]);
    pages.set('admin', [['admin', '/admin'], ['admin-empty', `/admin?exchange=${nothing}`], ['strategy', strategy], ['notifications', '/notifications']]);

    browser = await launchChromium();
    // Every role × width group starts now, at most PARALLEL at a time; each test below awaits its own.
    const groups = [...pages.keys()].flatMap((role) => WIDTHS.map((width) => ({ role, width })));
    const gates: (() => void)[] = [];
    let running = 0;
    const slot = async () => { if (running >= PARALLEL) await new Promise<void>((r) => gates.push(r)); running++; };
    const release = () => { running--; gates.shift()?.(); };
    for (const g of groups) {
      results.set(`${g.role}@${g.width}`, (async () => { await slot(); try { return await visitAll(g.role, g.width); } finally { release(); } })());
    }
  });
  after(async () => { await Promise.allSettled(results.values()); await browser?.close(); await app?.stop(); });

  /** Visits every page of `role` in one tab at `width`; the problems found, each prefixed by its path. */
  async function visitAll(role: Role, width: number): Promise<string[]> {
    const failures: string[] = [];
    const signedIn = who.get(role) ?? null;
    const v = await openVisit(browser, app.url, signedIn, width, deliberate);
    try {
      for (const [name, p] of pages.get(role)!) {
        const t0 = Date.now();
        try {
          await v.page.goto(app.url + p, { waitUntil: 'domcontentloaded' });
          await settle(v.page);
          if (signedIn && !name.startsWith('unknown')) {
            await v.page.waitForSelector('#mode-banner', { timeout: 5000 }).catch(() => failures.push(`${p}: no paper/live banner`));
          }
          await v.page.screenshot({ path: `${OUT}/${role}-${name}-${width}.png`, fullPage: true, optimizeForSpeed: true });
          await v.page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
          await settle(v.page);
          const o = await overflow(v.page);
          if (o.scroll > o.inner) failures.push(`${p}: ${o.scroll} px wide at ${o.inner} px (${o.culprits.join(', ')})`);
          const out = await spilling(v.page);
          if (out.length) failures.push(`${p}: tables out of the content column: ${out.join(', ')}`);
          failures.push(...(await axeViolations(v.page)).map((x) => `${p}: axe ${x}`));
          failures.push(...(await rawDates(v.page)).map((x) => `${p}: ${x}`));
          if (process.env.SITE_DEBUG) console.log(`${role} ${width} ${name}: ${Date.now() - t0} ms`);
        } catch (err) {
          failures.push(`${p}: ${String(err)}`);
        }
        failures.push(...v.problems.splice(0).map((x) => `${p}: ${x}`));
      }
    } finally { await v.ctx.close(); }
    return failures;
  }

  it('the axe check finds what it should: an unlabelled field and an empty button are reported as critical', async () => {
    const v = await openVisit(browser, app.url, null, 1280);
    try {
      await v.page.goto(`${app.url}/login`, { waitUntil: 'domcontentloaded' });
      await v.page.evaluate(() => { document.querySelector('main')!.append(document.createElement('input'), document.createElement('button')); });
      const found = await axeViolations(v.page);
      assert.ok(found.some((x) => x.startsWith('label (critical)')), found.join('\n'));
      assert.ok(found.some((x) => x.startsWith('button-name (critical)')), found.join('\n'));
    } finally { await v.ctx.close(); }
  });

  for (const role of ['anonymous', 'user-empty', 'user', 'author', 'admin'] as const) {
    for (const width of WIDTHS) {
      it(`${role} at ${width} px: every page without console errors, failed requests, overflow or serious axe violations`, async () => {
        assert.deepEqual(await results.get(`${role}@${width}`), []);
      });
    }
  }
});
