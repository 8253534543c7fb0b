/**
 * Site quality: the money/quantity/price/date formatting helpers of public/site/common.js (imported as the
 * browser does, in Node), and in real Chromium (puppeteer-core, Debian /usr/bin/chromium) the formatted
 * figures on the pages, the admin's "last errors" without SKIPPED rows and with emails, the paper/live
 * banner, the HTML and JSON 404s, the favicon, and editing a subscription in place through the UI.
 * Every page in every role and state (overflow, console errors, axe-core): test/site-pages.test.ts.
 * Screenshots in test-output/quality/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';
import { launchChromium, openVisit, overflow, type Visitor } from './support/site-browser.js';

const OUT = 'test-output/quality';
/** A zone away from UTC by a non-whole hour, so a UTC date shown as local would be caught. */
const TZ = 'Asia/Kolkata';
/** "YYYY-MM-DD HH:mm:ss" of an instant in `timeZone`, by Intl (not the page's code). */
function localIn(timeZone: string, iso: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

describe('site quality: formatting helpers (public/site/common.js)', () => {
  let f: any;
  before(async () => { f = await import('../public/site/common.js' as string); });

  it('quote money shows 2 decimals and its currency: 2.999997 → "3.00 USDT", -2.65127544 → "-2.65 USDT", 1234567.891 → "1,234,567.89 USDT"', () => {
    assert.equal(f.fmtQuote(2.999997, 'USDT'), '3.00 USDT');
    assert.equal(f.fmtQuote(-2.65127544, 'USDT'), '-2.65 USDT');
    assert.equal(f.fmtQuote('1234567.891', 'USDT'), '1,234,567.89 USDT');
    assert.equal(f.fmtQuote(-0.001, 'USDT'), '0.00 USDT', 'no "-0.00"');
    assert.equal(f.fmtQuote(null), '–');
    assert.equal(f.fmtQuote('abc'), '–');
  });

  it('base amounts drop float noise (0.34872156000000004 → "0.34872156 ETH") or use the market precision when known', () => {
    assert.equal(f.fmtBase(0.34872156000000004, 'ETH'), '0.34872156 ETH');
    assert.equal(f.fmtBase('0.100000000000'), '0.1');
    assert.equal(f.fmtBase(0.123456789, 'BTC', 5), '0.12346 BTC');
    assert.equal(f.fmtBase(2, 'BTC', 3), '2.000 BTC');
  });

  it('prices carry thousands separators everywhere (Stop 65,000 next to Entry 67,000) and small prices keep their digits', () => {
    assert.equal(f.fmtPrice(65000), '65,000');
    assert.equal(f.fmtPrice('67000.000000000000'), '67,000');
    assert.equal(f.fmtPrice(2999.997), '3,000');
    assert.equal(f.fmtPrice(1.23456), '1.2346');
    assert.equal(f.fmtPrice(0.0000123456), '0.00001235');
    assert.equal(f.fmtPrice(undefined), '–');
  });

  it('plurals: "1 active subscriber", "0 active subscribers", "2 active subscribers"', () => {
    assert.equal(f.plural(1, 'active subscriber'), '1 active subscriber');
    assert.equal(f.plural(0, 'active subscriber'), '0 active subscribers');
    assert.equal(f.plural(2, 'active subscriber'), '2 active subscribers');
  });

  it('dates: local time as text, UTC for the hover title', () => {
    const iso = '2026-12-03T18:05:09.000Z';
    const d = new Date(iso);
    const pad = (x: number) => String(x).padStart(2, '0');
    assert.equal(f.fmtDate(iso), `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
    assert.equal(f.fmtUtc(iso), '2026-12-03 18:05:09 UTC');
    assert.equal(f.fmtDate(null), '–');
  });

  it('the equity chart labels its time axis and crosshair in local time too (its own labels are UTC)', () => {
    const o = f.localChartTime();
    const t = Date.parse('2026-12-03T18:05:09.000Z') / 1000;
    const d = new Date(t * 1000);
    const pad = (x: number) => String(x).padStart(2, '0');
    assert.equal(o.localization.timeFormatter(t), f.fmtDate(d.toISOString()));
    assert.deepEqual([0, 1, 2, 3, 4].map((type) => o.timeScale.tickMarkFormatter(t, type)),
      [String(d.getFullYear()), 'Dec', String(d.getDate()), `${pad(d.getHours())}:${pad(d.getMinutes())}`, `${pad(d.getHours())}:${pad(d.getMinutes())}:09`]);
  });
});

describe('site quality in Chromium: figures, admin, 404s, editing a subscription', function () {
  this.timeout(90_000);
  let app: App;
  let browser: Browser;
  let strategy: Awaited<ReturnType<typeof seedStrategy>>;
  let user: Awaited<ReturnType<typeof registerUser>>;
  let admin: Awaited<ReturnType<typeof registerUser>>;
  let subscriptionId: string;
  const unknownStrategy = randomUUID();
  /** A venue name of this run only, so that admin filters find these rows among a shared database's. */
  const venue = `q${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    app = await startTestApp({ ROLES: 'api', TRADING_MODE: 'paper' });
    strategy = await seedStrategy(app, { name: `Quality ${randomUUID().slice(0, 4)} with a rather long strategy name for small screens`, pairs: ['ETH/USDT', 'BTC/USDT'], description: 'Trend following on ETH.' });
    const c = client(app);
    const ids: string[] = [];
    for (const [action, price, extra] of [['OPEN', 2999.997, { stopLoss: 2900.5, takeProfit: 3200 }], ['CLOSE', 3050, {}], ['OPEN', 3100, {}]] as const) {
      const r = await c.post('/api/signals', { strategyId: strategy.strategyId, pair: 'ETH/USDT', action, direction: 'LONG', price, ...extra }, strategy.author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    await setMarketPrices(app, strategy.strategyId, new Map(ids.map((id, i) => [id, [2999.997, 3050, 3100][i]!])));
    user = await registerUser(app);
    const sub = await c.post('/api/subscriptions', { strategyId: strategy.strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 } }, user.token);
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    subscriptionId = sub.body.id;
    // Executions as the executor records them: a filled buy with float noise, a close with a loss, a skip.
    const base = { userId: user.user.id, subscriptionId, exchange: venue, pair: 'ETH/USDT', paper: true, executedAt: new Date() };
    await app.db.prisma.executionLog.createMany({ data: [
      { ...base, signalId: ids[0]!, clientOrderId: `q-${randomUUID()}`, status: 'SUCCESS', side: 'buy', action: 'OPEN', amount: '0.348721560000', price: '2999.997000000000', orderId: 'paper-1' },
      { ...base, signalId: ids[1]!, clientOrderId: `q-${randomUUID()}`, status: 'SUCCESS', side: 'sell', action: 'CLOSE', amount: '0.348721560000', price: '3050', orderId: 'paper-2', realisedPnl: '-2.651275440000' },
      { ...base, signalId: ids[2]!, clientOrderId: `q-${randomUUID()}`, status: 'SKIPPED', side: 'buy', action: 'OPEN', error: `PRICE_MOVED: quality-skip-${subscriptionId}` },
    ] });
    admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    // the token's role is read at login: log in again for an ADMIN token
    const li = await c.post('/api/auth/login', { email: admin.user.email, password: 'correct horse battery' });
    admin = { ...admin, token: li.body.token, user: li.body.user };
    browser = await launchChromium();
  });
  after(async () => { await browser?.close(); await app?.stop(); });

  const deliberate = (url: string) => url.includes(`/api/strategies/${unknownStrategy}`) || url.endsWith(`/strategies/${unknownStrategy}`);
  const open = (who: Visitor | null, width: number, allowed?: (url: string) => boolean) => openVisit(browser, app.url, who, width, allowed);

  it('an unknown path is an HTML 404 page for a browser and JSON NOT_FOUND for the API; /favicon.ico is an image', async () => {
    const page = await fetch(`${app.url}/no/such/page`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /Page not found/);
    const api = await fetch(`${app.url}/api/no-such-route`, { headers: { accept: 'text/html,*/*' } });
    assert.equal(api.status, 404);
    assert.equal((await api.json()).error.code, 'NOT_FOUND');
    const plain = await fetch(`${app.url}/no/such/page`);
    assert.equal((await plain.json()).error.code, 'NOT_FOUND', 'a client that does not ask for HTML gets JSON');
    const icon = await fetch(`${app.url}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /image\/svg\+xml/);
  });

  it('an unknown strategy says "Strategy not found" instead of "Loading…" forever', async () => {
    const v = await open(null, 1280, deliberate);
    try {
      await v.page.goto(`${app.url}/strategies/${unknownStrategy}`, { waitUntil: 'domcontentloaded' });
      await v.page.waitForSelector('#not-found', { timeout: 5000 });
      assert.equal(await v.page.$eval('#not-found', (e) => e.textContent), 'Strategy not found');
      assert.deepEqual(v.problems, []);
    } finally { await v.ctx.close(); }
  });

  it('pages show money by asset, prices with separators, plurals, dates in the browser\'s time zone (Asia/Kolkata here) with UTC on hover, and the paper banner', async () => {
    const v = await open(user, 1280);
    try {
      await v.page.emulateTimezone(TZ);
      await v.page.goto(`${app.url}/strategies/${strategy.strategyId}`, { waitUntil: 'domcontentloaded' });
      await v.page.waitForSelector('#signal-table');
      assert.match(await v.page.$eval('#strategy-meta', (e) => e.textContent!), /· 1 active subscriber$/);
      const open1 = await v.page.$eval('#signal-table tbody tr:last-child', (e) => (e as HTMLElement).innerText);
      assert.match(open1, /3,000\s[\s\S]*2,900\.5\s+3,200/, `declared price, stop and target formatted alike: ${open1}`);
      // Every date on the page, in the tables and the stats: local text, the UTC date on hover, the instant in datetime.
      const times = await v.page.$$eval('main time', (ts) => ts.map((t) => ({ text: t.textContent!, title: t.getAttribute('title'), at: t.getAttribute('datetime')! })));
      assert.ok(times.length >= 4, `signals, open trade, closed trade and first signal: ${times.length}`);
      for (const t of times) {
        assert.equal(t.title, `${t.at.replace('T', ' ').slice(0, 19)} UTC`);
        const local = localIn(TZ, t.at);
        assert.ok(t.text === local || t.text === local.slice(0, 10), `${t.text} is ${t.at} in ${TZ} (${local})`);
      }
      assert.ok(await v.page.$('#first-signal time'), 'the first signal is a date too');
      assert.ok(times.some((t) => t.text.slice(11, 16) !== t.title!.slice(11, 16)), 'local is not UTC here (+05:30)');
      assert.match(await v.page.$eval('#mode-banner', (e) => e.textContent!), /PAPER trading/);

      await v.page.goto(`${app.url}/executions`, { waitUntil: 'domcontentloaded' });
      await v.page.waitForSelector('#execution-table');
      const rows = await v.page.$$eval('#execution-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
      const close = rows.find((r) => r.includes('sell')) ?? '';
      assert.match(close, /3,050\s+0\.34872156 ETH\s+-2\.65 USDT/, close);
      assert.ok(!rows.join('\n').includes('2.999997'), 'no raw float');
      assert.match(await v.page.$eval('#summary-table', (e) => (e as HTMLElement).innerText), /-2\.65/);
      assert.deepEqual(v.problems, []);
    } finally { await v.ctx.close(); }
  });

  it('admin: SKIPPED rows are not listed as "Last errors", and executions show the user by email, not a truncated id', async () => {
    const stats = await client(app).get(`/api/admin/execution-stats?exchange=${venue}`, admin.token);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.exchanges[0].counts.SKIPPED, 1, 'the skip is counted');
    assert.deepEqual(stats.body.lastErrors, [], 'but not listed among the errors');
    const all = await client(app).get('/api/admin/execution-stats', admin.token);
    assert.ok(!all.body.lastErrors.some((e: { status: string }) => e.status === 'SKIPPED'), 'no SKIPPED among last errors');
    const skipped = await client(app).get(`/api/admin/execution-stats?status=SKIPPED&exchange=${venue}`, admin.token);
    assert.ok(skipped.body.lastErrors.some((e: { error: string }) => e.error.includes(`quality-skip-${subscriptionId}`)), 'listed when filtered for');
    const v = await open(admin, 1280);
    try {
      await v.page.goto(`${app.url}/admin`, { waitUntil: 'domcontentloaded' });
      await v.page.waitForSelector('#admin-execution-table');
      // The newest 100 rows of a shared test database may be anyone's: every one must show an email.
      const users = await v.page.$$eval('#admin-execution-table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
      assert.ok(users.length > 0);
      assert.deepEqual(users.filter((u) => !/^[^@\s]+@[^@\s]+$/.test(u)), [], 'every user is shown by email, none by a (truncated) id');
      const errors = await v.page.$eval('#errors', (e) => (e as HTMLElement).innerText);
      assert.ok(!errors.includes(`quality-skip-${subscriptionId}`), 'the skip is not an error');
      assert.deepEqual(v.problems, []);
    } finally { await v.ctx.close(); }
  });

  it('a user edits sizing, risk limits, pairs and slippage of a subscription in place, with key guidance beside the key fields, and the API has the change', async () => {
    const v = await open(user, 375);
    try {
      await v.page.goto(`${app.url}/subscriptions`, { waitUntil: 'domcontentloaded' });
      const card = `.subscription[data-id="${subscriptionId}"]`;
      await v.page.waitForSelector(`${card} .sub-edit summary`);
      assert.match(await v.page.$eval(`${card} .key-guidance`, (e) => e.textContent!), /spot trading only.*never enable withdrawals.*IP/);
      await v.page.click(`${card} .sub-edit summary`);
      await v.page.select(`${card} .edit-mode`, 'percent');
      const set = (sel: string, val: string) => v.page.$eval(`${card} ${sel}`, (e, x) => { (e as HTMLInputElement).value = x; }, val);
      await set('.edit-size', '5');
      await set('.edit-max-trade', '20');
      await set('.edit-daily-loss', '50');
      await set('.edit-slippage', '1.5');
      await v.page.click(`${card} .edit-close-only`);
      await v.page.click(`${card} .edit-all-pairs`);
      await v.page.click(`${card} .edit-pair[value="BTC/USDT"]`);
      await v.page.click(`${card} .edit-save`);
      await v.page.waitForFunction((c) => /Saved\./.test(document.querySelector(`${c} .sub-msg`)?.textContent ?? ''), {}, card);
      const r = await client(app).get('/api/subscriptions', user.token);
      const s = r.body.subscriptions.find((x: { id: string }) => x.id === subscriptionId);
      assert.deepEqual(s.sizing, { mode: 'percent', percent: 5 });
      assert.deepEqual(s.risk, { maxTradePercent: 20, dailyLossLimit: 50, closeOnly: true });
      assert.equal(s.maxSlippagePercent, 1.5);
      assert.equal(s.allPairs, false);
      assert.deepEqual(s.pairs, ['BTC/USDT']);
      assert.match(await v.page.$eval(`${card} .sub-summary`, (e) => e.textContent!), /5 % of free balance · Risk: max 20 % per trade, daily loss limit 50\.00, close only · Max slippage: 1\.5 %/);
      const o = await overflow(v.page);
      assert.ok(o.scroll <= o.inner, `no overflow with the edit form open: ${o.scroll} > ${o.inner}`);
      await v.page.screenshot({ path: `${OUT}/user-subscription-edited-375.png`, fullPage: true });
      assert.deepEqual(v.problems, []);
    } finally { await v.ctx.close(); }
  });
});
