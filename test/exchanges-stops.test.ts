/**
 * Where a subscriber's stops live, as the API and the subscribe form say it: GET /api/exchanges tells for
 * each tested venue whether stop loss / take profit rest on the exchange (Binance) or only the trade
 * monitor's CLOSE is the stop (MEXC, Bybit spot); the form on a strategy page shows it for the chosen
 * exchange (real Chromium).
 */
import assert from 'node:assert/strict';
import type { Browser } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, seedStrategy, startTestApp } from './support/app.js';
import { launchChromium } from './support/site-browser.js';


describe('exchange-side stops per venue (/api/exchanges and the subscribe form)', function () {
  this.timeout(60_000);
  let app: App;
  let browser: Browser | undefined;

  before(async () => { app = await startTestApp({ ROLES: 'api' }); });
  after(async () => { await browser?.close(); await app?.stop(); });

  it('GET /api/exchanges: binance rests protective orders, mexc and bybit do not; untested venues say nothing', async () => {
    const r = await client(app).get('/api/exchanges');
    assert.equal(r.status, 200);
    const byId = Object.fromEntries((r.body.exchanges as { id: string; tested: boolean; protectiveOrders?: boolean }[]).map((x) => [x.id, x]));
    assert.deepEqual([byId.binance?.protectiveOrders, byId.mexc?.protectiveOrders, byId.bybit?.protectiveOrders], [true, false, false]);
    assert.equal(byId.okx?.tested, false);
    assert.equal(byId.okx?.protectiveOrders, undefined);
  });

  it('the subscribe form says where the stop lives for the chosen exchange', async () => {
    const { strategyId } = await seedStrategy(app, { pairs: ['ETH/USDT'] });
    const user = await registerUser(app);
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(app.url + '/login', { waitUntil: 'domcontentloaded' });
    await page.evaluate((t, u) => { localStorage.setItem('sm.token', t); localStorage.setItem('sm.user', JSON.stringify(u)); }, user.token, user.user);
    await page.goto(`${app.url}/strategies/${strategyId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#sub-stops-note');
    const note = () => page.$eval('#sub-stops-note', (e) => (e as HTMLElement).innerText);
    await page.select('#sub-exchange', 'binance');
    assert.match(await note(), /binance rests the signal's stop loss \/ take profit on the exchange/);
    await page.select('#sub-exchange', 'mexc');
    assert.match(await note(), /mexc has no exchange-side stops here: the trade monitor's CLOSE is the stop/);
    await page.select('#sub-exchange', 'bybit');
    assert.match(await note(), /bybit has no exchange-side stops/);
    assert.deepEqual(errors, []);
  });
});
