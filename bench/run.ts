/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) in turn and prints
 * one markdown table. Each bench file default-exports `async () => BenchRow[]`.
 * `--rows=a,b` keeps only the rows whose name contains one of these (case-insensitive); it reaches the bench
 * files as BENCH_ROWS, so a file can skip the rounds no kept row needs (bench/executor.bench.ts does):
 * `npm run bench -- executor --rows="latency 0 ms,latency 50 ms,own overhead"`.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import type { BenchRow } from './harness.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const rowsArg = args.find((a) => a.startsWith('--rows='));
if (rowsArg) process.env.BENCH_ROWS = rowsArg.slice('--rows='.length);
const rowFilter = (process.env.BENCH_ROWS ?? '').toLowerCase().split(',').map((r) => r.trim()).filter(Boolean);
const keep = (name: string) => !rowFilter.length || rowFilter.some((r) => name.toLowerCase().includes(r)) || name.includes(' failed: ');
const only = args.filter((a) => !a.startsWith('--'));
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
for (const r of rows.filter((row) => keep(row.name))) console.log(`| ${r.name} | ${r.value} | ${r.target ?? ''} | ${r.verdict ?? ''} |`);
process.exit(0);
