/**
 * The strategy page's subscribe box in real Chromium (puppeteer-core, /usr/bin/chromium): a user with a
 * live subscription to the strategy is shown it (status, exchange, sizing, max slippage) with a link to
 * My subscriptions, never a second Subscribe form; the form has a labelled "max slippage %" field.
 */
import assert from 'node:assert/strict';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('strategy page: subscribe form and the subscribed state (Chromium)', function () {
  this.timeout(60_000);
  let app: App;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    app = await startTestApp({ ROLES: 'api' });
    browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS, headless: true });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });
  after(async () => { await browser?.close(); await app?.stop(); });
  afterEach(() => { assert.deepEqual(pageErrors.splice(0), [], 'no script errors on the page'); });

  const text = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).innerText);
  async function signIn(token: string, user: unknown) {
    await page.goto(`${app.url}/login`, { waitUntil: 'domcontentloaded' });
    await page.evaluate((t, u) => { localStorage.setItem('sm.token', t); localStorage.setItem('sm.user', JSON.stringify(u)); }, token, user);
  }

  it('a subscribed user sees "You are subscribed" with a link to My subscriptions instead of a second Subscribe form', async () => {
    const { strategyId } = await seedStrategy(app);
    const user = await registerUser(app);
    await signIn(user.token, user.user);
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#subscribe-form');
    assert.equal(await page.$eval('label[for="sub-slippage"]', (e) => (e as HTMLElement).innerText.toLowerCase().includes('max slippage %')), true);
    await page.$eval('#sub-slippage', (e) => { (e as HTMLInputElement).value = '1.5'; });
    await page.click('#sub-submit');
    await page.waitForSelector('#subscribe-msg .msg.ok');
    assert.match(await text('#subscribed-summary'), /You are subscribed \(ACTIVE, binance, 100\.00 \(quote currency\) per signal, max slippage 1\.5 %\)/);
    const [mine] = (await client(app).get('/api/subscriptions', user.token)).body.subscriptions;
    assert.equal(mine.maxSlippagePercent, 1.5);
    // On a later visit the page shows the subscription, not the form.
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#subscribed');
    assert.equal(await page.$('#subscribe-form'), null);
    assert.equal(await page.$eval('#manage-subscription', (a) => a.getAttribute('href')), '/subscriptions');
    // Paused is still live; cancelled is not: the form is offered again.
    assert.equal((await client(app).patch(`/api/subscriptions/${mine.id}`, { status: 'PAUSED' }, user.token)).status, 200);
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#subscribed');
    assert.match(await text('#subscribed-summary'), /PAUSED/);
    assert.equal((await client(app).del(`/api/subscriptions/${mine.id}`, user.token)).status, 200);
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#subscribe-form');
  });
});
