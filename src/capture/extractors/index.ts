/**
 * Extractor registry: target `extractor` name → function. To support another chart site, add one
 * module exporting an Extractor (see ./types.ts) and one line here.
 */
import { chartPageExtractor } from './chart-page.js';
import type { Extractor } from './types.js';

export type { Extractor, ExtractContext, ExtractResult } from './types.js';
export { isMarker } from './chart-page.js';

/** The built-in extractors. */
export const EXTRACTORS: Readonly<Record<string, Extractor>> = Object.freeze({
  'chart-page': chartPageExtractor,
});
