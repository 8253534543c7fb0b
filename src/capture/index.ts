/**
 * Capture module: chart pages (role api) and the Puppeteer capturer (role capturer).
 * Vocabulary: a capture *target* (targets.ts) names a strategy, pair, timeframe, page and extractor;
 * a *marker* is a BUY/SELL drawn on a chart (strategies/); an *extractor* reads markers from a page
 * (extractors/); *evidence* is the PNG screenshot kept with each captured signal. See docs/capture.md.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { PrismaClient } from '@prisma/client';
import type { Registry } from 'prom-client';
import { TOPICS, type Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import { createPublicMarketData, type VenueBudget } from '../exchange/index.js';
import type { TokenService } from '../http/auth.js';
import type { Logger } from '../lib/logger.js';
import type { SignalCoordinator } from '../signals/index.js';
import { authoringRoutes } from './authoring-routes.js';
import { botRoutes } from './bot-routes.js';
import { BotStore } from './bot-store.js';
import { BrowserHost } from './browser.js';
import { Capturer } from './capturer.js';
import { ChartData } from './chart-data.js';
import { chartRoutes } from './chart-routes.js';
import { ChartStrategies } from './chart-strategies.js';
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

/**
 * Chart pages, their data API and /evidence (role api); with `prisma` and `tokens`, also the strategy bots
 * REST (bot-routes.ts) and the author's webhook/counts view (authoring-routes.ts).
 */
export function chartPagesComponent(deps: {
  config: Pick<Config, 'exchangeUrls' | 'capture' | 'dataDir' | 'publicBaseUrl'>; budget: VenueBudget; prisma?: PrismaClient; tokens?: TokenService; bus?: Bus;
}): Component {
  const { config: c } = deps;
  const market = createPublicMarketData({ exchangeUrls: c.exchangeUrls, budget: deps.budget });
  const data = new ChartData({ market, cacheMs: c.capture.candleCacheMs, fixturesDir: c.capture.fixturesDir, exchanges: c.capture.chartExchanges });
  return {
    name: 'charts',
    async start() {},
    async stop() { await market.close(); },
    routers: [
      chartRoutes({ data, evidenceDir: evidenceDir(c.dataDir), strategies: deps.prisma && new ChartStrategies({
        prisma: deps.prisma, targetsFile: c.capture.targetsFile, extractorNames: Object.keys(EXTRACTORS), reloadMs: c.capture.targetsReloadMs,
      }) }),
      ...(deps.prisma && deps.tokens ? [
        botRoutes({ prisma: deps.prisma, tokens: deps.tokens, bus: deps.bus, data, evidenceDir: evidenceDir(c.dataDir), botsPerAuthor: c.capture.botsPerAuthor, exchanges: c.capture.chartExchanges }),
        authoringRoutes({ prisma: deps.prisma, tokens: deps.tokens, publicBaseUrl: c.publicBaseUrl }),
      ] : []),
    ],
  };
}

/**
 * The Puppeteer capturer (role capturer): its own PM2 app, also inside `npm start`. With `prisma`, the enabled
 * strategy bots are targets too (re-read with the file, and at once when `bus` announces a bot change).
 */
export function capturerComponent(deps: {
  config: Pick<Config, 'chromiumPath' | 'capture' | 'port' | 'dataDir'>; log: Logger; registry: Registry; coordinator: SignalCoordinator;
  prisma?: PrismaClient; bus?: Bus;
}): Component & { capturer: Capturer; browser: BrowserHost } {
  const { config: c, log } = deps;
  const metrics = new CaptureMetrics(deps.registry);
  const settings = c.capture;
  const browser = new BrowserHost({
    chromiumPath: c.chromiumPath, recycleAfter: settings.recycleAfter,
    protocolTimeoutMs: Math.max(10_000, settings.pageTimeoutMs * 2), log, metrics,
  });
  let server: http.Server | undefined;
  const startedAt = Date.now();
  const baseUrl = () => {
    if (settings.baseUrl) return settings.baseUrl;
    const addr = server?.address() as AddressInfo | null | undefined;
    return `http://127.0.0.1:${addr?.port ?? c.port}`;
  };
  const capturer = new Capturer({
    settings, log: log.child({ component: 'capturer' }), metrics, coordinator: deps.coordinator, browser,
    evidenceDir: evidenceDir(c.dataDir), baseUrl, extractors: EXTRACTORS,
    bots: deps.prisma ? new BotStore({ prisma: deps.prisma, intervalSeconds: settings.botIntervalSeconds }) : undefined,
  });
  let unsubscribe: (() => void) | undefined;
  return {
    name: 'capturer',
    capturer,
    browser,
    async start() {
      await capturer.start();
      if (deps.prisma) unsubscribe = deps.bus?.subscribe(TOPICS.botsChanged, () => { void capturer.botsChanged(); });
    },
    async stop() { unsubscribe?.(); await capturer.stop(); },
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
