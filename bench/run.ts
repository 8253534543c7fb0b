/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) in turn and prints
 * one markdown table. Each bench file default-exports `async () => BenchRow[]`.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import type { BenchRow } from './harness.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.ts') && (!only.length || only.some((o) => f.includes(o)))).sort();
const rows: BenchRow[] = [];
for (const f of files) {
  process.stderr.write(`running ${f}…\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default: () => Promise<BenchRow[]> };
    rows.push(...(await mod.default()));
  } catch (err) {
    rows.push({ name: `${f} failed: ${(err as Error).message}`, value: '-', verdict: 'FAIL' });
  }
}
const cpu = os.cpus()[0]?.model ?? 'cpu';
console.log(`\nBenchmarks (${os.cpus().length} cores, ${cpu}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)})\n`);
console.log('| benchmark | result | target | verdict |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.value} | ${r.target ?? ''} | ${r.verdict ?? ''} |`);
process.exit(0);
