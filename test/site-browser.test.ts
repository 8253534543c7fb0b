/**
 * The marketplace site in real Chromium (puppeteer-core, Debian /usr/bin/chromium) against a live app
 * with the executor placing orders on the fake Binance: register, log in, browse, verify, subscribe with
 * keys, see the masked key, test the keys, see an execution appear after a signal, admin lists failures.
 * Screenshots of the main pages go to test-output/ (git-ignored). One browser for the whole file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp, uniqueEmail } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';
import { FakeBinance } from './support/fake-exchange.js';
import { launchChromium } from './support/site-browser.js';

const OUT = 'test-output';
const PASSWORD = 'correct horse battery';
const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const evidence = '/evidence/browser-test.png';

describe('marketplace site in Chromium (live executor, fake Binance)', function () {
  this.timeout(60_000);
  const fake = new FakeBinance();
  let app: App;
  let browser: Browser;
  let page: Page;
  let strategy: Awaited<ReturnType<typeof seedStrategy>>;
  const keys = { apiKey: `key-${randomUUID()}`, apiSecret: `secret-${randomUUID()}` };
  const email = uniqueEmail('browser');
  const pageErrors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    app = await startTestApp({
      ROLES: 'api,executor,store', TRADING_MODE: 'live', EXCHANGE_URL_BINANCE: await fake.start(), EXCHANGE_TIMEOUT_MS: '2000',
      EXCHANGE_RECV_WINDOW_MS: '1000', EXECUTOR_LEASE_MS: '4000', EXECUTOR_POLL_MS: '200', EXECUTOR_RETRY_BASE_MS: '200',
    });
    fake.setPrice('ETH/USDT', 3000);
    fake.addAccount(keys.apiKey, keys.apiSecret, { USDT: 5000 });
    strategy = await seedStrategy(app, { name: `Browser MA ${randomUUID().slice(0, 4)}`, pairs: ['ETH/USDT', 'BTC/USDT'], description: 'Moving-average crossover on ETH.' });
    const marketPrices = new Map<string, number>();
    for (const [action, price] of [['OPEN', 2900], ['CLOSE', 3050]] as const) {
      const r = await client(app).post('/api/signals', { strategyId: strategy.strategyId, pair: 'ETH/USDT', action, direction: 'LONG', price }, strategy.author.token);
      assert.equal(r.status, 201);
      marketPrices.set(r.body.id, price);
    }
    // No monitor runs here, so no reference price was at hand: record the market at the declared prices, as
    // the coordinator does when its feed has the pair (track records count verified trades only).
    await setMarketPrices(app, strategy.strategyId, marketPrices);
    // A captured signal with its chart screenshot, as the capturer stores it.
    mkdirSync(path.join(app.config.dataDir, 'evidence'), { recursive: true });
    writeFileSync(path.join(app.config.dataDir, 'evidence', 'browser-test.png'), Buffer.from(PNG_1PX, 'base64'));
    await app.coordinator.accept({ strategyId: strategy.strategyId, pair: 'BTC/USDT', action: 'OPEN', direction: 'LONG', price: 60_000, evidence }, 'capture');
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });
  after(async () => { await browser?.close(); await app?.stop(); await fake.stop(); });
  afterEach(() => { assert.deepEqual(pageErrors.splice(0), [], 'no script errors on the page'); });

  const go = (p: string) => page.goto(app.url + p, { waitUntil: 'domcontentloaded' });
  const shot = (name: string, fullPage = true) => page.screenshot({ path: `${OUT}/${name}.png`, fullPage });
  const text = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).innerText);
  /** Sets an input's value as typing would (one input event); page.type is one CDP round trip per key. */
  async function fill(sel: string, value: string) {
    await page.$eval(sel, (e, v) => { (e as HTMLInputElement).value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }, value);
  }
  async function login(addr: string) {
    await go('/login');
    await fill('#email', addr);
    await fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#submit')]);
  }

  it('registers through the form, lands on the marketplace signed in, and logs out and in again', async () => {
    await go('/register');
    await fill('#email', email);
    await fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#submit')]);
    assert.match(await text('#who'), new RegExp(`${email} \\(USER\\)`));
    await go('/login');
    await shot('login', false);
    await page.click('#logout');
    await page.waitForSelector('a[href="/login"]');
    await login(email);
    assert.match(await text('#who'), /USER/);
  });

  it('a wrong password shows the error on the login page', async () => {
    await page.evaluate(() => localStorage.clear());
    await go('/login');
    await fill('#email', email);
    await fill('#password', 'wrong password!');
    await page.click('#submit');
    await page.waitForSelector('.msg.err');
    assert.match(await text('.msg.err'), /email or password is wrong/);
    await login(email);
  });

  it('browses: the list shows the strategy with its live track record, the strategy page draws the equity curve and verifies', async () => {
    await go('/');
    await page.waitForSelector('#strategies');
    const row = await page.$$eval('#strategies tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText));
    const mine = row.find((r) => r.includes(strategy.strategyId) || r.includes('Browser MA'));
    assert.ok(mine, 'strategy listed');
    assert.match(await text('.basis'), /Live results from published signals/);
    await shot('marketplace');
    await go(`/strategies/${strategy.strategyId}`);
    await page.waitForSelector('#equity canvas');
    assert.match(await text('#stats'), /Closed trades/);
    assert.match(await text('#stats'), /\+5\.17 %/);
    assert.equal(await page.$$eval('#signal-table tbody tr', (r) => r.length), 3);
    const img = await page.$eval('#signal-table img.evidence', (i) => ({ src: (i as HTMLImageElement).getAttribute('src'), loaded: (i as HTMLImageElement).naturalWidth > 0 }));
    assert.deepEqual(img, { src: evidence, loaded: true });
    await page.click('#verify');
    await page.waitForSelector('#verify-result .msg');
    assert.match(await text('#verify-result'), /^Verified: 3 signals, hash chain intact/);
    await shot('strategy');
  });

  it('subscribes with keys; the subscriptions page shows only the masked key and the key test says they work', async () => {
    await page.waitForSelector('#subscribe-form');
    const untested = await page.$$eval('#sub-exchange option[disabled]', (o) => o.map((x) => x.textContent));
    assert.ok(untested.length > 0 && untested.every((t) => /untested/.test(t ?? '')));
    await fill('#sub-amount', '100');
    await fill('#sub-key', keys.apiKey);
    await fill('#sub-secret', keys.apiSecret);
    await page.click('#sub-submit');
    await page.waitForSelector('#subscribe-msg .msg.ok');
    await go('/subscriptions');
    await page.waitForSelector('.subscription .masked-key');
    const masked = await text('.subscription .masked-key');
    assert.equal(masked, `${keys.apiKey.slice(0, 4)}…${keys.apiKey.slice(-4)}`);
    const html = await page.content();
    assert.ok(!html.includes(keys.apiKey) && !html.includes(keys.apiSecret), 'no key material on the page');
    await page.click('button[data-action="test-keys"]');
    await page.waitForFunction(() => /keys work|NOT/.test(document.querySelector('.sub-msg')?.textContent ?? ''));
    assert.match(await text('.sub-msg'), /The keys work: binance returned your balance \(5000 USDT free\)/);
    await shot('subscriptions');
  });

  it('shows an execution appearing on My executions after the author publishes a signal', async () => {
    const failing = await registerUser(app);
    const bad = await client(app).post('/api/subscriptions', { strategyId: strategy.strategyId, exchange: 'binance', sizing: { mode: 'quote', amount: 100 }, apiKey: `bad-${randomUUID()}`, apiSecret: `bad-${randomUUID()}` }, failing.token);
    assert.equal(bad.status, 201);
    await go('/executions');
    await page.waitForSelector('#no-executions');
    const sig = await client(app).post('/api/signals', { strategyId: strategy.strategyId, pair: 'ETH/USDT', action: 'OPEN', direction: 'LONG', price: 3000 }, strategy.author.token);
    assert.equal(sig.status, 201);
    await page.waitForSelector('#execution-table tr[data-status="SUCCESS"]', { timeout: 15_000 });
    const row = await text('#execution-table tbody tr');
    assert.match(row, /ETH\/USDT/);
    assert.match(row, /buy/i);
    assert.equal(fake.orders(keys.apiKey).length, 1);
    assert.ok(row.includes(fake.orders(keys.apiKey)[0]!.orderId.toString()), 'order id shown');
    assert.match(await text('#summary-table'), /binance/);
    await shot('executions');
  });

  it('the strategy page of a subscriber shows a newly published signal live through /ws/signals (before the 5 s poll)', async () => {
    await go(`/strategies/${strategy.strategyId}`);
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === '● live');
    const loadedAt = Date.now();
    const sig = await client(app).post('/api/signals', { strategyId: strategy.strategyId, pair: 'ETH/USDT', action: 'CLOSE', direction: 'LONG', price: 3100 }, strategy.author.token);
    assert.equal(sig.status, 201);
    await page.waitForSelector(`#signal-table tr[data-seq="${sig.body.seq}"]`, { timeout: 3000 });
    assert.ok(Date.now() - loadedAt < 4000);
    assert.match(await text(`#signal-table tr[data-seq="${sig.body.seq}"]`), /CLOSE LONG/);
  });

  it('pauses, resumes and cancels the subscription from My subscriptions; the API agrees each time', async () => {
    await go('/subscriptions');
    const status = async () => (await client(app).get('/api/subscriptions', await page.evaluate(() => localStorage.getItem('sm.token')) ?? '')).body.subscriptions[0].status;
    await (await page.waitForSelector('button[data-action="pause"]'))!.click();
    await page.waitForSelector('.subscription .badge.PAUSED');
    assert.equal(await status(), 'PAUSED');
    await page.click('button[data-action="resume"]');
    await page.waitForSelector('.subscription .badge.ACTIVE');
    assert.equal(await status(), 'ACTIVE');
    page.once('dialog', (d) => { void d.accept(); });
    await page.click('button[data-action="cancel"]');
    await page.waitForSelector('.subscription .badge.CANCELLED');
    assert.equal(await status(), 'CANCELLED');
    assert.equal(await page.$('button[data-action="test-keys"]'), null, 'a cancelled subscription offers no actions');
  });

  it('the admin page shows an active operator alert and lists the failed execution with its exchange failure count and error; a USER sees no data there', async () => {
    await go('/admin');
    await page.waitForSelector('.msg.err');
    assert.match(await text('.msg.err'), /administrators/);
    assert.equal(await page.$('#exchange-table'), null);
    const admin = await registerUser(app);
    await app.db.prisma.user.update({ where: { id: admin.user.id }, data: { role: 'ADMIN' } });
    const alertKey = `site-test:${randomUUID().slice(0, 8)}`;
    await app.db.pool.query(`INSERT INTO "NotificationAlertState" (key, active, value, threshold, message, since) VALUES ($1, true, 75, 50, 'failure rate 75 % on binance', now())`, [alertKey]);
    await page.evaluate(() => localStorage.clear());
    await login(admin.user.email);
    await go('/admin');
    await page.waitForFunction(() => !!document.querySelector('#error-table'), { timeout: 15_000 });
    const alertRow = (await page.$$eval('#admin-alerts-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).innerText))).find((r) => r.includes(alertKey));
    await app.db.pool.query('DELETE FROM "NotificationAlertState" WHERE key = $1', [alertKey]);
    assert.match(alertRow ?? '', /ACTIVE[\s\S]*75[\s\S]*failure rate 75 % on binance/, 'the operator alert is shown on /admin');
    await page.select('#status', 'FAILED');
    await fill('#exchange', 'binance');
    await page.click('#filter button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#admin-execution-table tbody tr')].length > 0
      && [...document.querySelectorAll('#admin-execution-table tbody tr')].every((tr) => tr.textContent!.includes('FAILED')));
    const exchanges = await text('#exchange-table');
    assert.match(exchanges, /binance/);
    assert.match(await text('#error-table'), /binance/);
    await shot('admin', false);
  });
});
