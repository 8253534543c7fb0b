/**
 * The strategy page's subscribe box in real Chromium (puppeteer-core, /usr/bin/chromium): a user with a
 * live subscription to the strategy is shown it (status, exchange, sizing, max slippage) with a link to
 * My subscriptions, never a second Subscribe form; the form has a labelled "max slippage %" field.
 * Futures: offered only on the exchanges the executor trades them on, with leverage, margin mode and the
 * leverage risk explained; leverage and margin mode are edited in place on My subscriptions.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { launchChromium } from './support/site-browser.js';


describe('strategy page: subscribe form and the subscribed state (Chromium)', function () {
  this.timeout(60_000);
  let app: App;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    app = await startTestApp({ ROLES: 'api' });
    browser = await launchChromium();
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

  it('futures: only where the executor trades them (not MEXC), with leverage, margin mode and the risk explained; leverage edited in place', async () => {
    const { strategyId } = await seedStrategy(app, { pairs: ['BTC/USDT'] });
    const user = await registerUser(app);
    await signIn(user.token, user.user);
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#subscribe-form');
    const state = () => page.evaluate(() => ({
      market: (document.querySelector('#sub-market') as HTMLSelectElement).value,
      futuresOffered: !(document.querySelector('#sub-market option[value="futures"]') as HTMLOptionElement).disabled,
      fieldsShown: !(document.querySelector('.futures-fields') as HTMLElement).hidden,
      guidance: document.querySelector('#sub-key-guidance')!.textContent,
    }));
    const first = await state();
    assert.deepEqual([first.market, first.futuresOffered, first.fieldsShown], ['spot', true, false], 'binance first: spot, futures offered, no futures fields');
    assert.match(first.guidance!, /enable spot trading only/);
    await page.select('#sub-exchange', 'mexc');
    assert.deepEqual([(await state()).futuresOffered, (await state()).market], [false, 'spot'], 'no futures on MEXC');
    await page.select('#sub-exchange', 'bybit');
    await page.select('#sub-market', 'futures');
    const s = await state();
    assert.deepEqual([s.futuresOffered, s.fieldsShown], [true, true]);
    assert.match(s.guidance!, /USDT-margined futures trading only; never enable withdrawals/);
    assert.match(await text('#sub-leverage-risk'), /Leverage multiplies gains and losses.*liquidates/);
    assert.match(await text('label[for="sub-amount"]'), /Margin per signal/);
    await page.$eval('#sub-leverage', (e) => { (e as HTMLInputElement).value = '5'; });
    await page.select('#sub-margin', 'cross');
    await page.$eval('#sub-amount', (e) => { (e as HTMLInputElement).value = '50'; });
    await page.click('#sub-submit');
    await page.waitForSelector('#subscribed');
    assert.match(await text('#subscribed-summary'), /You are subscribed \(ACTIVE, bybit futures 5× cross, 50\.00 \(quote currency\) per signal/);
    const row = await app.db.prisma.subscription.findFirstOrThrow({ where: { userId: user.user.id } });
    assert.deepEqual([row.exchange, row.market, row.leverage, row.marginMode, row.sizing], ['bybit', 'futures', 5, 'cross', { mode: 'quote', amount: 50 }]);

    await page.goto(`${app.url}/subscriptions`, { waitUntil: 'domcontentloaded' });
    const card = `.subscription[data-id="${row.id}"]`;
    await page.waitForSelector(`${card} .sub-edit summary`);
    assert.match(await text(`${card} .sub-summary`), /Exchange: bybit futures 5× cross/);
    await page.click(`${card} .sub-edit summary`);
    await page.$eval(`${card} .fut-leverage`, (e) => { (e as HTMLInputElement).value = '3'; });
    await page.select(`${card} .fut-margin`, 'isolated');
    await page.click(`${card} .edit-save`);
    await page.waitForFunction((c) => /Saved\./.test(document.querySelector(`${c} .sub-msg`)?.textContent ?? ''), {}, card);
    const edited = await app.db.prisma.subscription.findUniqueOrThrow({ where: { id: row.id } });
    assert.deepEqual([edited.market, edited.leverage, edited.marginMode], ['futures', 3, 'isolated']);
    assert.match(await text(`${card} .sub-summary`), /Exchange: bybit futures 3× isolated/);
  });
});
