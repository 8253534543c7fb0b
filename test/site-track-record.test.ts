/**
 * The track record as the site shows it, in real Chromium (puppeteer-core, Debian /usr/bin/chromium):
 * market-price figures, "price not verified" on signals and trades without a market price, the
 * verified share, declared prices beside market prices, a dash instead of "0 %" for a strategy without
 * trades, /verify's verdict on declared prices that diverge from the market, and the author editing pairs.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, seedStrategy, startTestApp, uniquePair } from './support/app.js';
import { setMarketPrices } from './support/market-prices.js';
import { launchChromium } from './support/site-browser.js';


describe('track record on the site (Chromium)', function () {
  this.timeout(60_000);
  let app: App;
  let browser: Browser;
  let page: Page;
  let fabricated: Awaited<ReturnType<typeof seedStrategy>>;
  let empty: Awaited<ReturnType<typeof seedStrategy>>;
  const pageErrors: string[] = [];
  const pair = uniquePair();

  before(async () => {
    app = await startTestApp();
    const api = client(app);
    fabricated = await seedStrategy(app, { name: `Fabricated ${randomUUID().slice(0, 4)}`, pairs: [pair] });
    empty = await seedStrategy(app, { name: `Empty ${randomUUID().slice(0, 4)}` });
    // Declared: +10 % twice. Market: -5 % on the first trade; the second trade's exit was not verified.
    const legs = [[100, 100], [110, 95], [100, 100], [110, null]] as const;
    const ids: string[] = [];
    for (const [i, [price]] of legs.entries()) {
      const r = await api.post('/api/signals', { strategyId: fabricated.strategyId, pair, action: i % 2 ? 'CLOSE' : 'OPEN', direction: 'LONG', price }, fabricated.author.token);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    await setMarketPrices(app, fabricated.strategyId, Object.fromEntries(ids.map((id, i) => [id, legs[i]![1]])));
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });
  after(async () => { await browser?.close(); await app?.stop(); });
  afterEach(() => { assert.deepEqual(pageErrors.splice(0), [], 'no script errors on the page'); });

  const go = (p: string) => page.goto(app.url + p, { waitUntil: 'domcontentloaded' });
  const text = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).innerText);
  const rowOf = async (name: string) => (await page.$$eval('#strategies tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText)))).find((cells) => cells[0]!.includes(name));

  it('the list shows the market-price record, the verified share and the unverified trade, and a dash (not "0 %") for a strategy without trades', async () => {
    await go('/');
    await page.waitForSelector('#strategies');
    const f = await rowOf('Fabricated');
    assert.ok(f, 'fabricated strategy listed');
    // Strategy, Author, Pairs, Trades, Win rate, Total PnL, Return 30 d (with its sparkline), Max drawdown, Sharpe, Verified prices, Subscribers, Age
    assert.deepEqual(f.slice(2, 8), [pair, '1', '0 %', '-5.00 %', '-5.00 %', '5 %']);
    assert.match(f[9]!, /^75 %\n1 trade price not verified$/);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/marketplace-track-record.png', fullPage: false });
    const e = await rowOf('Empty');
    assert.deepEqual(e!.slice(2, 10), ['any listed pair', '0', '–', '–', '–', '–', '–', '–']);
  });

  it('the strategy page shows market figures, "price not verified" on the signal and trade without a market price, declared prices beside market prices', async () => {
    await go(`/strategies/${fabricated.strategyId}`);
    await page.waitForSelector('#closed-table');
    const stats = await text('#stats');
    assert.match(stats, /-5\.00 %/);
    assert.doesNotMatch(stats, /\+10/);
    assert.match(await text('#verified-share'), /75 %\s+Signal prices verified \(3 of 4\)/);
    assert.match(await text('#unverified-trades'), /^1\s/);
    const signalRows = await page.$$eval('#signal-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(4, 6).map((td) => (td as HTMLElement).innerText)));
    assert.deepEqual(signalRows, [['110', 'price not verified'], ['100', '100'], ['110', '95'], ['100', '100']]);
    const closed = await page.$$eval('#closed-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(3, 9).map((td) => (td as HTMLElement).innerText)));
    assert.deepEqual(closed, [
      ['100', '100', '110', 'price not verified', 'price not verified', '+10.00 %'],
      ['100', '100', '110', '95', '-5.00 %', '+10.00 %'],
    ]);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/strategy-track-record.png', fullPage: true });
  });

  it('"Verify now" says the declared prices differ from the market and the claimed record is not the performance', async () => {
    await page.click('#verify');
    await page.waitForSelector('#verify-result .msg');
    const verdict = await text('#verify-result');
    assert.match(verdict, /^NOT verified: chain intact; published statistics match the signals; declared prices differ from the market by more than 3 % on 1 signal/);
    assert.match(verdict, /3 of 4 signal prices checked against the market \(75 %\)/);
  });

  it('the empty strategy page says it accepts any pair its reference exchange lists and shows dashes', async () => {
    await go(`/strategies/${empty.strategyId}`);
    await page.waitForFunction(() => /pairs:/.test(document.querySelector('#strategy-meta')?.textContent ?? ''));
    assert.match(await text('#strategy-meta'), /pairs: any pair its reference exchange lists/);
    assert.match(await text('#stats'), /–\s+Win rate/);
    assert.doesNotMatch(await text('#stats'), /0 %\s+Win rate/);
  });

  it('the author edits the pairs from the strategy page; the page shows the new list', async () => {
    const me = await client(app).get('/api/me', fabricated.author.token);
    await page.evaluate((token, user) => { localStorage.setItem('sm.token', token); localStorage.setItem('sm.user', JSON.stringify(user)); }, fabricated.author.token, me.body.user ?? fabricated.author.user);
    await go(`/strategies/${fabricated.strategyId}`);
    await page.waitForSelector('#edit-form');
    await page.click('#edit-strategy summary');
    await page.$eval('#edit-pairs', (e, v) => { (e as HTMLInputElement).value = v; }, `${pair}, eth/usdt, ETH/USDT`);
    await page.click('#edit-save');
    await page.waitForFunction(() => /ETH\/USDT/.test(document.querySelector('#strategy-meta')?.textContent ?? ''));
    assert.match(await text('#strategy-meta'), new RegExp(`pairs: ${pair.replace('/', '\\/')}, ETH/USDT ·`));
    assert.deepEqual((await app.db.prisma.strategy.findUniqueOrThrow({ where: { id: fabricated.strategyId } })).pairs, [pair, 'ETH/USDT']);
  });
});
