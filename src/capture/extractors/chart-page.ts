/**
 * Built-in extractor "chart-page": reads our /charts/:strategyId pages through the API the page
 * script exposes (public/charts/chart.js): `window.__chart.ready`, `.error`, `.markers()`.
 */
import { AppError } from '../../lib/errors.js';
import type { Marker } from '../strategies/index.js';
import type { Extractor } from './types.js';

interface PageChart { ready?: boolean; error?: string | null; markers?: () => unknown[] }

/** Waits for the chart to be drawn, then returns the markers it shows. */
export const chartPageExtractor: Extractor = async (page, { timeoutMs }) => {
  await page.waitForFunction(() => {
    const c = (window as unknown as { __chart?: PageChart }).__chart;
    return !!c && (c.ready === true || !!c.error);
  }, { timeout: timeoutMs, polling: 25 });
  const got = await page.evaluate(() => {
    const c = (window as unknown as { __chart: PageChart }).__chart;
    return c.error ? { error: String(c.error) } : { markers: c.markers ? c.markers() : [] };
  });
  if ('error' in got) throw new AppError('CAPTURE_PAGE_ERROR', `chart page reports: ${got.error}`, 502);
  return { markers: (got.markers ?? []).filter(isMarker), screenshotSelector: '#capture' };
};

/** Drops anything the page returned that is not a well-formed marker. */
export function isMarker(m: unknown): m is Marker {
  const x = m as Marker;
  return !!x && Number.isFinite(x.time) && (x.side === 'BUY' || x.side === 'SELL') && Number.isFinite(x.price) && x.price > 0 && typeof x.reason === 'string';
}
