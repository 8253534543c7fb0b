/**
 * Capture module: chart pages (role api) and the Puppeteer capturer (role capturer).
 * Vocabulary: a capture *target* (targets.ts) names a strategy, pair, timeframe, page and extractor;
 * a *marker* is a BUY/SELL drawn on a chart (strategies/); an *extractor* reads markers from a page
 * (extractors/); *evidence* is the PNG screenshot kept with each captured signal. See docs/capture.md.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AppContext, Component } from '../component.js';
import { createPublicMarketData } from '../exchange/index.js';
import { BrowserHost } from './browser.js';
import { Capturer } from './capturer.js';
import { ChartData } from './chart-data.js';
import { chartRoutes } from './chart-routes.js';
import { EXTRACTORS } from './extractors/index.js';
import { CaptureMetrics } from './metrics.js';

export { Capturer } from './capturer.js';
export { BrowserHost, CHROMIUM_ARGS } from './browser.js';
export { ChartData, parseChartQuery, type ChartPayload, type ChartQuery } from './chart-data.js';
export { EXTRACTORS, type Extractor, type ExtractContext, type ExtractResult } from './extractors/index.js';
export { parseTargets, readTargetsFile, chartUrl, TIMEFRAME_SECONDS, type CaptureTarget } from './targets.js';
export { newMarkers, startCursor, markerKey, markerSignal, type MarkerCursor } from './marker-signals.js';
export * from './strategies/index.js';

/** Where the capturer saves screenshots. */
export const evidenceDir = (dataDir: string) => path.join(dataDir, 'evidence');

/** Chart pages, their data API and /evidence (role api). */
export function chartPagesComponent(ctx: AppContext): Component {
  const market = createPublicMarketData({ exchangeUrls: ctx.config.exchangeUrls, budget: ctx.exchangeBudget });
  const data = new ChartData({ market, cacheMs: ctx.config.capture.candleCacheMs, fixturesDir: ctx.config.capture.fixturesDir, exchanges: ctx.config.capture.chartExchanges });
  return {
    name: 'charts',
    async start() {},
    async stop() { await market.close(); },
    routers: [chartRoutes({ data, evidenceDir: evidenceDir(ctx.config.dataDir) })],
  };
}

/** The Puppeteer capturer (role capturer): its own PM2 app, also inside `npm start`. */
export function capturerComponent(ctx: AppContext): Component & { capturer: Capturer; browser: BrowserHost } {
  const metrics = new CaptureMetrics(ctx.metrics.registry);
  const settings = ctx.config.capture;
  const browser = new BrowserHost({
    chromiumPath: ctx.config.chromiumPath, recycleAfter: settings.recycleAfter,
    protocolTimeoutMs: Math.max(10_000, settings.pageTimeoutMs * 2), log: ctx.log, metrics,
  });
  let server: http.Server | undefined;
  const startedAt = Date.now();
  const baseUrl = () => {
    if (settings.baseUrl) return settings.baseUrl;
    const addr = server?.address() as AddressInfo | null | undefined;
    return `http://127.0.0.1:${addr?.port ?? ctx.config.port}`;
  };
  const capturer = new Capturer({
    settings, log: ctx.log.child({ component: 'capturer' }), metrics, coordinator: ctx.coordinator, browser,
    evidenceDir: evidenceDir(ctx.config.dataDir), baseUrl, extractors: EXTRACTORS,
  });
  return {
    name: 'capturer',
    capturer,
    browser,
    start: () => capturer.start(),
    stop: () => capturer.stop(),
    health: () => captureHealth(capturer, metrics, settings.pageTimeoutMs, startedAt),
    attach(s) { server = s; },
  };
}

/**
 * Capturer health: browser up (Chromium pid; launched on first use), last good capture, visits and failures
 * since start. Not ok when targets exist and no capture succeeded within three of the slowest target's
 * intervals plus a page timeout (counted from start-up until the first success).
 */
async function captureHealth(capturer: Capturer, metrics: CaptureMetrics, pageTimeoutMs: number, startedAt: number) {
  const h = capturer.health();
  const visits = (await metrics.visits.get()).values;
  const count = (outcome: string) => visits.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0);
  const slowest = Math.max(0, ...capturer.targets().map((t) => t.intervalSeconds * 1000));
  const since = h.lastOkAt ? Date.parse(h.lastOkAt) : startedAt;
  const staleMs = 3 * slowest + pageTimeoutMs;
  const ok = h.targets === 0 || Date.now() - since < staleMs;
  return { ...h, ok, browserUp: h.browserPid !== null, captures: count('ok'), failures: count('failed'), staleAfterSeconds: Math.round(staleMs / 1000) };
}
