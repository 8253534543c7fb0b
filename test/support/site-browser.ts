/**
 * The site in real Chromium (puppeteer-core, Debian /usr/bin/chromium) for the browser tests: one browser,
 * a fresh context (own localStorage) per visitor signed in with a token, every problem a page shows
 * recorded (console errors, uncaught exceptions, failed requests, HTTP errors), and the checks each page
 * must pass: no horizontal overflow, no table out of the content column, and axe-core's accessibility
 * rules without a serious or critical violation.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer, { type Browser, type BrowserContext, type HTTPRequest, type Page } from 'puppeteer-core';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const launchChromium = (): Promise<Browser> =>
  puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });

export interface Visitor { token: string; user: unknown }
export interface Visit { page: Page; problems: string[]; ctx: BrowserContext }

/** Requests in flight per page (WebSockets aside), for `settle`. */
const inflight = new WeakMap<Page, Set<HTTPRequest>>();
function track(page: Page) {
  const set = new Set<HTTPRequest>();
  inflight.set(page, set);
  page.on('request', (r) => { if (r.resourceType() !== 'websocket' && r.resourceType() !== 'eventsource') set.add(r); });
  for (const ev of ['requestfinished', 'requestfailed'] as const) page.on(ev, (r) => { set.delete(r); });
  // A navigation drops what the old document had in flight (no event need come for those): all but the new document.
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) for (const r of set) if (!(r.isNavigationRequest() && r.frame() === f)) set.delete(r); });
}

/**
 * A fresh browser context signed in as `who` (or anonymous), at `width` px, recording every problem;
 * `allowed(url)` names the deliberate 404s (an unknown path, an unknown strategy).
 */
export async function openVisit(browser: Browser, origin: string, who: Visitor | null, width: number, allowed: (url: string) => boolean = () => false): Promise<Visit> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  track(page);
  await page.setViewport({ width, height: 900 });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${String(err)}`));
  page.on('console', (m) => { if (m.type() === 'error' && !allowed(m.location()?.url ?? '')) problems.push(`console: ${m.text()} (${m.location()?.url})`); });
  page.on('requestfailed', (r) => {
    // A navigation away (requireLogin's redirect, the next page of a visit) aborts what the old page still had in flight.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && r.resourceType() !== 'document') return;
    problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400 && !allowed(r.url())) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  if (who) {
    await page.goto(`${origin}/assets/site.css`);
    await page.evaluate((t, u) => { localStorage.setItem('sm.token', t); localStorage.setItem('sm.user', JSON.stringify(u)); }, who.token, who.user);
  }
  return { page, problems, ctx };
}

/**
 * Waits until no "Loading…" placeholder is left and no request (WebSockets aside) has been in flight for
 * `quietMs`; pages that poll are quiet between their polls. Gives up waiting for quiet after `timeoutMs`.
 */
export async function settle(page: Page, quietMs = 200, timeoutMs = 5000): Promise<void> {
  await page.waitForFunction(() => ![...document.querySelectorAll('p.muted')].some((p) => p.textContent === 'Loading…'), { timeout: 10_000 });
  const set = inflight.get(page);
  if (!set) { await page.waitForNetworkIdle({ idleTime: quietMs, timeout: timeoutMs }).catch(() => {}); return; }
  const end = Date.now() + timeoutMs;
  let quietSince = set.size ? 0 : Date.now();
  while (Date.now() < end) {
    if (set.size) quietSince = 0; else if (!quietSince) quietSince = Date.now();
    if (quietSince && Date.now() - quietSince >= quietMs) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (process.env.SITE_DEBUG) console.log('still in flight:', [...set].map((r) => r.url()));
}

/** The document's width against the window's, and the innermost elements that stick out (for the message). */
export const overflow = (page: Page) => page.evaluate<[], () => { scroll: number; inner: number; culprits: string[] }>(`(() => {
  const inner = window.innerWidth;
  const out = (e) => e.getBoundingClientRect().right > inner + 0.5;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const culprits = [...document.body.querySelectorAll('*')].filter((e) => out(e) && ![...e.children].some(out)).slice(0, 3).map(name);
  return { scroll: document.documentElement.scrollWidth, inner, culprits };
})()`); // a string: tsx would wrap named helpers in __name(), which the page does not have

/** Tables whose box sticks out of the content column (main), by id. */
export const spilling = (page: Page) => page.evaluate(() => {
  const main = document.querySelector('main');
  if (!main) return [];
  const right = main.getBoundingClientRect().right;
  return [...document.querySelectorAll('main table')].filter((t) => (t.parentElement as HTMLElement).getBoundingClientRect().right > right + 0.5 || (t.closest('.table-wrap') === null && t.getBoundingClientRect().right > right + 0.5)).map((t) => t.id || 'table');
});

let axeSource: string | undefined;
/**
 * axe-core's rules on the page as it is now: the serious and critical violations, one line each
 * ("rule (impact): help — selectors"). Injected through the DevTools protocol, so the site's CSP (scripts
 * from our origin only) stays as it is.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const has = await page.evaluate(() => 'axe' in window);
  if (!has) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`);
}
