/**
 * A subscriber's walk through the site in real Chromium (puppeteer-core, Debian /usr/bin/chromium), the UI
 * only, against an app whose Binance is the fake exchange (test-keys through real ccxt): register → find the
 * strategy on the marketplace (search) → its page → subscribe with API keys (a mistyped secret) → test the
 * keys on My subscriptions: refused, the subscription is marked → replace the keys → test again: they work →
 * edit sizing, risk limits, pairs and slippage in place → the strategy page shows the subscribed state.
 * The database is checked after each step (keys stored sealed, never in clear). Screenshots in
 * test-output/subscriber/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, seedStrategy, startTestApp, uniqueEmail } from './support/app.js';
import { FakeBinance } from './support/fake-exchange.js';
import { launchChromium, openVisit, settle, type Visit } from './support/site-browser.js';

const OUT = 'test-output/subscriber';

describe('subscriber walkthrough in Chromium: register, subscribe with keys, test them, edit in place', function () {
  this.timeout(90_000);
  const fake = new FakeBinance();
  let app: App;
  let browser: Browser;
  let visit: Visit;
  let page: Page;
  let strategy: Awaited<ReturnType<typeof seedStrategy>>;
  const name = `Walk ${randomUUID().slice(0, 8)} trend`;
  const email = uniqueEmail('subscriber');
  const keys = { apiKey: `key-${randomUUID()}`, apiSecret: `secret-${randomUUID()}` };
  let userId: string;
  let subscriptionId: string;

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    app = await startTestApp({ ROLES: 'api', EXCHANGE_URL_BINANCE: await fake.start(), EXCHANGE_TIMEOUT_MS: '3000', EXCHANGE_RECV_WINDOW_MS: '1000' });
    fake.addAccount(keys.apiKey, keys.apiSecret, { USDT: 2500 });
    strategy = await seedStrategy(app, { name, pairs: ['ETH/USDT', 'BTC/USDT'], description: 'Trend following on ETH and BTC.' });
    browser = await launchChromium();
    visit = await openVisit(browser, app.url, null, 1280);
    page = visit.page;
  });
  after(async () => { await browser?.close(); await app?.stop(); await fake.stop(); });
  afterEach(() => { assert.deepEqual(visit.problems.splice(0), [], 'no console error, uncaught exception or failed request'); });

  const go = (p: string) => page.goto(app.url + p, { waitUntil: 'domcontentloaded' });
  const text = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).innerText);
  const shot = (n: string) => page.screenshot({ path: `${OUT}/${n}.png`, fullPage: true });
  /** Sets a field's value as typing would (one input event). */
  const fill = (sel: string, value: string) => page.$eval(sel, (e, v) => { (e as HTMLInputElement).value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }, value);
  const setChecked = (sel: string, on: boolean) => page.$eval(sel, (e, v) => { (e as HTMLInputElement).checked = v; }, on);
  const row = () => app.db.prisma.subscription.findUniqueOrThrow({ where: { id: subscriptionId } });
  const card = () => `.subscription[data-id="${subscriptionId}"]`;
  async function testKeys(expect: RegExp) {
    await page.click(`${card()} [data-action="test-keys"]`);
    await page.waitForFunction((c, re) => new RegExp(re).test(document.querySelector(`${c} .sub-msg`)?.textContent ?? ''), { timeout: 15_000 }, card(), expect.source);
  }

  it('registers as a subscriber through the form and lands signed in', async () => {
    await go('/register');
    await fill('#email', email);
    await fill('#password', 'correct horse battery');
    await page.select('#role', 'USER');
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#submit')]);
    await page.waitForSelector('#who');
    assert.match(await text('#who'), new RegExp(`${email} \\(USER\\)`));
    const user = await app.db.prisma.user.findUniqueOrThrow({ where: { email } });
    assert.equal(user.role, 'USER');
    userId = user.id;
    assert.equal(await app.db.prisma.subscription.count({ where: { userId } }), 0);
  });

  it('finds the strategy on the marketplace by searching its name and opens its page', async () => {
    await go('/');
    await settle(page);
    await fill('#f-q', name);
    await page.waitForFunction((n) => [...document.querySelectorAll('#strategies a.strategy-link')].map((a) => a.textContent).join('|') === n, { timeout: 10_000 }, name);
    assert.match(page.url(), /[?&]q=Walk/);
    await shot('1-marketplace');
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#strategies a.strategy-link')]);
    assert.equal(new URL(page.url()).pathname, `/strategies/${strategy.strategyId}`);
    await page.waitForSelector('#subscribe-form');
    assert.equal(await text('#name'), name);
  });

  it('subscribes with API keys on the strategy page (one pair, 150 USDT, 1.5 % slippage); the keys are stored sealed', async () => {
    assert.match(await text('#sub-key-guidance'), /spot trading only.*never enable withdrawals/);
    await page.select('#sub-exchange', 'binance');
    await setChecked('#sub-all', false);
    await page.click('.sub-pair[value="ETH/USDT"]');
    await fill('#sub-amount', '150');
    await fill('#sub-slippage', '1.5');
    await fill('#sub-key', keys.apiKey);
    await fill('#sub-secret', `${keys.apiSecret}-typo`);
    await page.click('#sub-submit');
    await page.waitForSelector('#subscribed');
    assert.match(await text('#subscribe-msg'), /Subscribed with key/);
    assert.match(await text('#subscribed-summary'), /You are subscribed \(ACTIVE, binance, 150\.00 \(quote currency\) per signal, max slippage 1\.5 %\)/);
    const [s] = await app.db.prisma.subscription.findMany({ where: { userId } });
    assert.ok(s);
    subscriptionId = s.id;
    assert.deepEqual([s.strategyId, s.status, s.exchange, s.allPairs, s.subscribedPairs, s.sizing, s.maxSlippagePercent, s.hasKeys, s.keysInvalid],
      [strategy.strategyId, 'ACTIVE', 'binance', false, ['ETH/USDT'], { mode: 'quote', amount: 150 }, 1.5, true, false]);
    assert.ok(s.apiKeyEnc && s.apiSecretEnc && !s.apiKeyEnc.includes(keys.apiKey) && !s.apiSecretEnc.includes(keys.apiSecret), 'sealed, not in clear');
    assert.ok(s.apiKeyMasked && !s.apiKeyMasked.includes(keys.apiKey));
    await shot('2-subscribed');
  });

  it('tests the keys on My subscriptions: the exchange refuses the mistyped secret and the subscription is marked', async () => {
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#manage-subscription')]);
    await page.waitForSelector(`${card()} [data-action="test-keys"]`);
    assert.equal(await text(`${card()} .masked-key`), (await row()).apiKeyMasked);
    await testKeys(/The keys do NOT work: binance refused them/);
    assert.equal((await row()).keysInvalid, true);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector(`${card()} .badge.FAILED`);
    assert.match(await text(`${card()} .badge.FAILED`), /keys refused by the exchange/);
  });

  it('replaces the keys and tests them again: they work (the balance is read through ccxt from the fake Binance)', async () => {
    const before = await row();
    await fill(`#new-key-${subscriptionId}`, keys.apiKey);
    await fill(`#new-secret-${subscriptionId}`, keys.apiSecret);
    await page.click(`${card()} .keys-form button[type="submit"]`);
    await page.waitForFunction((c) => !document.querySelector(`${c} .badge.FAILED`), {}, card());
    const replaced = await row();
    assert.equal(replaced.keysInvalid, false);
    assert.notEqual(replaced.apiSecretEnc, before.apiSecretEnc, 'the secret was resealed');
    await testKeys(/The keys work: binance returned your balance \(2500 USDT free\)/);
    assert.equal((await row()).keysInvalid, false);
    await shot('3-keys-tested');
  });

  it('edits sizing, risk limits, pairs and slippage in place; the row has every change', async () => {
    await page.click(`${card()} .sub-edit summary`);
    await page.select(`${card()} .edit-mode`, 'percent');
    await fill(`${card()} .edit-size`, '10');
    await fill(`${card()} .edit-max-trade`, '25');
    await fill(`${card()} .edit-daily-loss`, '40');
    await fill(`${card()} .edit-slippage`, '0.8');
    await setChecked(`${card()} .edit-all-pairs`, false);
    await setChecked(`${card()} .edit-pair[value="ETH/USDT"]`, true);
    await setChecked(`${card()} .edit-pair[value="BTC/USDT"]`, true);
    await page.click(`${card()} .edit-save`);
    await page.waitForFunction((c) => /Saved\./.test(document.querySelector(`${c} .sub-msg`)?.textContent ?? ''), { timeout: 10_000 }, card());
    const s = await row();
    assert.deepEqual([s.status, s.sizing, s.risk, s.maxSlippagePercent, s.allPairs, [...s.subscribedPairs].sort(), s.hasKeys, s.keysInvalid],
      ['ACTIVE', { mode: 'percent', percent: 10 }, { maxTradePercent: 25, dailyLossLimit: 40, closeOnly: false }, 0.8, false, ['BTC/USDT', 'ETH/USDT'], true, false]);
    assert.match(await text(`${card()} .sub-summary`), /Pairs: ETH\/USDT, BTC\/USDT · Size: 10 % of free balance · Risk: max 25 % per trade, daily loss limit 40\.00 · Max slippage: 0\.8 %/);
    await shot('4-edited');
  });

  it('back on the strategy page, the subscription is shown (with the edits) instead of a second Subscribe form', async () => {
    await go(`/strategies/${strategy.strategyId}`);
    await page.waitForSelector('#subscribed');
    assert.equal(await page.$('#subscribe-form'), null);
    assert.match(await text('#subscribed-summary'), /You are subscribed \(ACTIVE, binance, 10 % of the free balance per signal, max slippage 0\.8 %\)/);
    assert.match(await text('#strategy-meta'), /· 1 active subscriber$/);
    const r = await client(app).get('/api/subscriptions', (await page.evaluate(() => localStorage.getItem('sm.token')))!);
    assert.deepEqual(r.body.subscriptions.map((x: { id: string }) => x.id), [subscriptionId], 'one subscription, edited in place');
    await shot('5-strategy-subscribed');
  });
});
