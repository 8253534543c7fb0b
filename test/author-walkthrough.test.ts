/**
 * An author's walk through the site in real Chromium (puppeteer-core, Debian /usr/bin/chromium), against one
 * app with roles api, store and capturer and the fake Binance's candles (through ccxt): register as an
 * author → create a strategy on the marketplace page → copy the full webhook URL and the TradingView alert
 * message with the copy buttons → post the message (filled in as TradingView would) to the URL → the signal
 * shows on the strategy page; attach an MA-crossover bot from the page, preview its chart with the marker,
 * enable it → the capturer publishes its first signal, shown on the page with its screenshot, and the bot
 * row shows the capture and its latest screenshot. Screenshots in test-output/walkthrough/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import type { App } from '../src/app.js';
import { startTestApp, uniquePair } from './support/app.js';
import { FakeBinance, type Candle } from './support/fake-exchange.js';
import { launchChromium } from './support/site-browser.js';

const OUT = 'test-output/walkthrough';
const MIN = 60_000;

/** 1-minute candles with these closes, the last one opening at `lastOpenMs`. */
function candles(closes: number[], lastOpenMs: number): Candle[] {
  const first = lastOpenMs - (closes.length - 1) * MIN;
  return closes.map((close, i) => {
    const open = i ? closes[i - 1]! : close;
    return { openTime: first + i * MIN, open, high: Math.max(open, close) + 1, low: Math.min(open, close) - 1, close, volume: 10 };
  });
}

describe('author walkthrough in Chromium: strategy, webhook, bot', function () {
  this.timeout(180_000);
  let fake: FakeBinance;
  let app: App;
  let browser: Browser;
  let page: Page;
  const webhookPair = uniquePair();
  const botPair = uniquePair();
  const problems: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    fake = new FakeBinance({ markets: [webhookPair, botPair].map((p) => ({ base: p.split('/')[0]!, quote: 'USDT', price: '100', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '1' })) });
    await fake.start();
    // Flat, then a close at 110 two minutes ago: SMA(2) crosses above SMA(4) on a closed candle, within the backfill.
    fake.setCandles(botPair, '1m', candles([100, 100, 100, 100, 100, 100, 110, 111], Math.floor(Date.now() / MIN) * MIN - MIN));
    fake.setCandles(webhookPair, '1m', candles([100, 100, 100, 100, 100], Math.floor(Date.now() / MIN) * MIN - MIN));
    app = await startTestApp({
      ROLES: 'api,store,capturer', EXCHANGE_URL_BINANCE: fake.origin, BOT_INTERVAL_SECONDS: '0.5', CAPTURE_BACKFILL_SECONDS: '600',
      CAPTURE_PAGE_TIMEOUT_MS: '10000', CHART_CANDLE_CACHE_MS: '0', CAPTURE_TARGETS_RELOAD_MS: '60000',
    });
    browser = await launchChromium();
    const ctx = await browser.createBrowserContext();
    await ctx.overridePermissions(app.url, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
    page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.on('pageerror', (err) => problems.push(`pageerror: ${String(err)}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  });
  after(async () => {
    await browser?.close();
    await app?.db.prisma.tradingBot.deleteMany({ where: { pairs: { has: botPair } } }).catch(() => {});
    await app?.stop();
    await fake?.stop();
  });

  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  const rowWith = (text: string) => page.waitForFunction((t) => [...document.querySelectorAll('#signal-table tbody tr')].some((tr) => (tr as HTMLElement).innerText.includes(t)), { timeout: 20_000, polling: 200 }, text);

  it('walks an author from registering to a captured bot signal with its screenshot', async () => {
    // Register as an author.
    await page.goto(`${app.url}/register`, { waitUntil: 'domcontentloaded' });
    await page.type('#email', `walk-${randomUUID().slice(0, 8)}@test.local`);
    await page.type('#password', 'correct horse battery');
    await page.select('#role', 'AUTHOR');
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#submit')]);

    // Create the strategy on the marketplace page; the secret is shown once.
    await page.goto(`${app.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#new-strategy-card summary');
    await page.click('#new-strategy-card summary');
    await page.type('#new-name', 'Walkthrough MA');
    await page.type('#new-pairs', `${webhookPair}, ${botPair}`);
    await page.click('#new-create');
    await page.waitForSelector('#created-secret');
    const secret = await page.$eval('#created-secret', (e) => e.textContent!);
    assert.match(secret, /^whsec_/);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#created-link')]);
    const strategyId = new URL(page.url()).pathname.split('/').pop()!;

    // Copy the webhook URL and the alert message.
    await page.waitForSelector('#webhook-url');
    await page.click('#copy-webhook-url');
    await page.waitForFunction(() => document.querySelector('#copy-webhook-url')?.textContent === 'Copied');
    const url = await clipboard();
    assert.equal(url, `${app.url}/api/webhooks/tradingview/${strategyId}`);
    assert.match(await page.$eval('#author-counts', (e) => e.textContent!), /0 signals published · 0 active subscribers · bots: 0 enabled, 0 disabled/);
    await page.select('#alert-kind', 'open');
    await page.click('#copy-alert-message');
    await page.waitForFunction(() => document.querySelector('#copy-alert-message')?.textContent === 'Copied');
    const message = await clipboard();
    assert.ok(message.includes(`"secret": "${secret}"`), `the message carries the secret: ${message}`);
    await page.screenshot({ path: `${OUT}/1-webhook.png`, fullPage: true });

    // TradingView fills in the placeholders and posts the message to the URL.
    const ticker = `BINANCE:${webhookPair.replace('/', '')}`;
    const body = message.replaceAll('{{ticker}}', ticker).replaceAll('{{close}}', '100.25').replaceAll('{{timenow}}', new Date().toISOString());
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 202, await res.clone().text());
    const posted = await res.json();
    assert.deepEqual([posted.pair, posted.action, posted.direction, posted.price, posted.source], [webhookPair, 'OPEN', 'LONG', 100.25, 'webhook']);
    await rowWith(webhookPair);

    // Attach an MA-crossover bot on the other pair; the preview draws its marker; nothing is captured while disabled.
    await page.click('#bot-attach summary');
    await page.select('#bot-builtin', 'ma-crossover');
    for (const [name, value] of [['fast', '2'], ['slow', '4']]) {
      await page.$eval(`#bot-param-${name}`, (e, v) => { (e as HTMLInputElement).value = v; }, value);
    }
    await page.select('#bot-param-kind', 'sma');
    await page.$eval('#bot-pairs', (e, v) => { (e as HTMLInputElement).value = v; }, botPair);
    await page.select('#bot-timeframe', '1m');
    await page.click('#bot-create');
    const frameEl = await page.waitForSelector('iframe.bot-preview-frame', { timeout: 20_000 });
    const frame = (await frameEl!.contentFrame())!;
    await frame.waitForFunction(() => (window as any).__chart?.ready === true || !!(window as any).__chart?.error, { timeout: 20_000 });
    const drawn = await frame.evaluate(() => (window as any).__chart.markers());
    assert.deepEqual(drawn.map((m: any) => [m.side, m.price]), [['BUY', 110]], 'the preview shows the crossing');
    assert.match(await page.$eval('#bot-preview', (e) => (e as HTMLElement).innerText), /1 marker on the last 8 candles/);
    const bot = await app.db.prisma.tradingBot.findFirstOrThrow({ where: { strategyId } });
    assert.deepEqual([bot.enabled, bot.builtin, bot.params, bot.pairs, bot.timeframe], [false, 'ma-crossover', { fast: 2, slow: 4, kind: 'sma' }, [botPair], '1m']);
    const capturer = app.components.find((c) => c.name === 'capturer') as unknown as { capturer: { targets(): { botId?: string }[] } };
    assert.ok(!capturer.capturer.targets().some((t) => t.botId === bot.id), 'a disabled bot is not a capture target');
    await page.screenshot({ path: `${OUT}/2-preview.png`, fullPage: true });

    // Enable it: the capturer picks it up without a restart and publishes the crossing with its screenshot.
    // The bot table is redrawn every 5 s: found and clicked in one step, so the button cannot be replaced in between.
    await page.$eval(`.bot-toggle[data-bot="${bot.id}"]`, (b) => (b as HTMLButtonElement).click());
    await rowWith('capture');
    const captured = await page.evaluate(() => {
      const tr = [...document.querySelectorAll('#signal-table tbody tr')].find((r) => (r as HTMLElement).innerText.includes('capture'))! as HTMLElement;
      const img = tr.querySelector('img.evidence') as HTMLImageElement | null;
      return { text: tr.innerText, src: img?.getAttribute('src') ?? null };
    });
    assert.match(captured.text, new RegExp(`${botPair.replace('/', '\\/')}\\s+OPEN LONG\\s+110`));
    assert.match(captured.src ?? '', /^\/evidence\/[\w.-]+\.png$/);
    // The screenshot is lazy-loaded: scrolled into view, it loads and is chart-sized.
    await page.$eval('#signal-table img.evidence', (i) => i.scrollIntoView());
    await page.waitForFunction(() => [...document.querySelectorAll('#signal-table img.evidence')].some((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 300), { timeout: 10_000 });
    // The bot row: the capture counted, its latest screenshot shown (fetched with the author's token).
    await page.waitForFunction((id) => {
      const row = document.querySelector(`#bot-table tr[data-bot="${id}"]`) as HTMLElement | null;
      const img = row?.querySelector('img.bot-shot') as HTMLImageElement | null;
      return !!row && /\d+ \/ 1/.test(row.innerText) && /enabled/.test(row.innerText) && !!img && img.complete && img.naturalWidth > 300;
    }, { timeout: 20_000, polling: 250 }, bot.id);
    const stored = await app.db.prisma.tradingBot.findUniqueOrThrow({ where: { id: bot.id } });
    assert.equal(stored.signals, 1);
    assert.ok(stored.captures >= 1 && stored.lastScreenshot && captured.src!.endsWith(stored.lastScreenshot));
    await page.screenshot({ path: `${OUT}/3-captured.png`, fullPage: true });

    // The author's panels fit a 375 px screen (wide tables scroll in their own box).
    await page.setViewport({ width: 375, height: 900 });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#bot-table');
    await page.waitForSelector('#webhook-url');
    const o = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    await page.screenshot({ path: `${OUT}/4-author-375.png`, fullPage: true });
    assert.ok(o.scroll <= o.inner, `${o.scroll} px wide at ${o.inner} px`);
    assert.deepEqual(problems, []);
  });
});
