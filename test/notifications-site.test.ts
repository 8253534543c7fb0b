/**
 * The Notifications page in real Chromium (puppeteer-core, /usr/bin/chromium) against a live app with
 * the notifier: save a webhook (the secret is shown once), change the events, link Telegram through
 * the deep link's command, see deliveries in the log. Every field has an accessible label.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { client, registerUser, startTestApp } from './support/app.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { finishedRows, seedSignal, WebhookReceiver } from './support/notify-kit.js';
import { launchChromium } from './support/site-browser.js';


describe('Notifications page in Chromium', function () {
  this.timeout(90_000);
  const tg = new FakeTelegram();
  const hooks = new WebhookReceiver();
  let app: App;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    const [apiRoot] = await Promise.all([tg.start(), hooks.start()]);
    app = await startTestApp({ ROLES: 'api,store,notifier', TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: apiRoot, NOTIFY_ALLOW_PRIVATE_TARGETS: 'true', NOTIFY_POLL_MS: '100' });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
  });
  after(async () => { await browser?.close(); await app?.stop(); await Promise.all([tg.stop(), hooks.stop()]); });

  it('saves a webhook (secret shown once), chooses events, links Telegram and lists deliveries', async () => {
    const u = await registerUser(app);
    await page.goto(`${app.url}/login`, { waitUntil: 'domcontentloaded' });
    await page.evaluate((token, user) => { localStorage.setItem('sm.token', token); localStorage.setItem('sm.user', JSON.stringify(user)); }, u.token, u.user);
    await page.goto(`${app.url}/notifications`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.querySelector('#telegram-state')?.textContent === 'No chat linked yet.');
    assert.ok(await page.$('a[href="/notifications"]'), 'the header links the page');

    // Every input has a label (a <label for>, a wrapping label or aria-label).
    const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => !e.getAttribute('aria-label') && !e.closest('label') && !(e.id && document.querySelector(`label[for="${e.id}"]`))).map((e) => e.id));
    assert.deepEqual(unlabelled, []);

    // Webhook: the secret appears once, then the page shows only the URL.
    await page.$eval('#webhook-url', (e, v) => { (e as HTMLInputElement).value = v; }, `${hooks.url}/hook/${u.user.id}`);
    await page.click('#webhook-form button[type=submit]');
    await page.waitForFunction(() => /whsec_/.test(document.querySelector('#webhook-secret')?.textContent ?? ''));
    const secret = /whsec_[A-Za-z0-9_-]+/.exec(await page.$eval('#webhook-secret', (e) => e.textContent ?? ''))![0];
    hooks.secrets.set(u.user.id, secret);
    await page.waitForFunction(() => /^Sending to /.test(document.querySelector('#webhook-state')?.textContent ?? ''));
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => /^Sending to /.test(document.querySelector('#webhook-state')?.textContent ?? ''));
    assert.ok(!(await page.content()).includes(secret), 'not shown again after a reload');

    // Events: defaults checked (failures on, fills off); turn fills on for the webhook and save.
    assert.equal(await page.$eval('#ev-webhook-order-failed', (e) => (e as HTMLInputElement).checked), true);
    assert.equal(await page.$eval('#ev-webhook-order-filled', (e) => (e as HTMLInputElement).checked), false);
    await page.click('#ev-webhook-order-filled');
    await page.click('#events-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#msg')?.textContent === 'Event choices saved.');
    assert.ok((await client(app).get('/api/notifications/settings', u.token)).body.events.webhook.includes('order.filled'));

    // Telegram: the deep link's command, typed in the bot's chat, links it.
    await page.click('#telegram-link');
    await page.waitForFunction(() => /\/start /.test(document.querySelector('#telegram-deeplink')?.textContent ?? ''));
    const command = /\/start [A-Za-z0-9_-]+/.exec(await page.$eval('#telegram-deeplink', (e) => e.textContent ?? ''))![0];
    assert.match(await page.$eval('#telegram-deeplink a', (e) => e.getAttribute('href') ?? ''), new RegExp(`^https://t\\.me/${tg.username}\\?start=`));
    tg.userSends(424242, command);
    await tg.waitForMessage('424242', (m) => m.text.includes('linked'));

    // A fill reaches the webhook and shows in the delivery log.
    await finishedRows(app, await seedSignal(app), u.user.id, [{ status: 'SUCCESS' }]);
    await hooks.waitFor(() => hooks.for(u.user.id).length >= 1, 'the fill');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#delivery-table tr[data-status="sent"]');
    assert.match(await page.$eval('#telegram-state', (e) => e.textContent ?? ''), /linked/);
    assert.deepEqual(pageErrors, []);
  });
});
