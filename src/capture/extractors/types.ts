/**
 * Extractor contract. An extractor reads the buy/sell markers that a loaded chart page has drawn.
 * It is one async function `(page, ctx) => { markers, screenshotSelector? }`:
 *   - wait (at most ctx.timeoutMs) until the page has drawn, then read the markers from the page
 *     (its JS API or its DOM), in any order; the capturer sorts them and decides which are new;
 *   - throw when the page shows an error or never draws (the capture counts as failed, one log line);
 *   - `screenshotSelector` names the element kept as evidence (default: the viewport).
 * Add one for another chart site: write `src/capture/extractors/<site>.ts` exporting an Extractor,
 * add it to EXTRACTORS in ./index.ts, and name it as a target's `extractor`. See docs/capture.md.
 */
import type { Page } from 'puppeteer-core';
import type { Marker } from '../strategies/index.js';
import type { CaptureTarget } from '../targets.js';

/** What the extractor is told about the visit. */
export interface ExtractContext {
  target: CaptureTarget;
  /** Budget for waiting on the page, ms. */
  timeoutMs: number;
}

/** What the extractor found: markers (BUY = OPEN LONG, SELL = CLOSE LONG; time = candle open, unix s). */
export interface ExtractResult {
  markers: Marker[];
  screenshotSelector?: string;
}

/** Reads markers from a loaded page. */
export type Extractor = (page: Page, ctx: ExtractContext) => Promise<ExtractResult>;
