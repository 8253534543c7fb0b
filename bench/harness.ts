/** Benchmark rows and percentile helpers shared by bench/*.bench.ts files. */
export interface BenchRow {
  /** What was measured, with its conditions. */
  name: string;
  value: string;
  /** The target from the issue, if any, e.g. "< 20 ms". */
  target?: string;
  /** PASS/FAIL against the target, or '' when there is none. */
  verdict?: 'PASS' | 'FAIL' | '';
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarise(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN, n: s.length };
}

export const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
export const verdict = (ok: boolean): 'PASS' | 'FAIL' => (ok ? 'PASS' : 'FAIL');
