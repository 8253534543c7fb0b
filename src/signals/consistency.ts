/**
 * Consistency check between the JSON store (DATA_DIR/signals) and PostgreSQL: open trades, the recent
 * completed trades, every monthly archive and metadata.lastSeq. Returns the differences, one line each.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { monthRange, monthsSince, type SignalReader } from './repository.js';
import type { ActiveTrade, CompletedTrade } from './types.js';

export interface ConsistencyReport { ok: boolean; differences: string[]; checked: Record<string, number> }

async function readArray<T>(file: string, diffs: string[]): Promise<T[] | null> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (!Array.isArray(v)) { diffs.push(`${path.basename(file)}: not an array`); return null; }
    return v as T[];
  } catch (err) {
    diffs.push(`${path.basename(file)}: unreadable (${(err as Error).message})`);
    return null;
  }
}

function compare<T extends { id: string }>(name: string, file: T[], db: T[], diffs: string[], fields: (keyof T)[]): void {
  const f = new Map(file.map((t) => [t.id, t]));
  const d = new Map(db.map((t) => [t.id, t]));
  for (const id of d.keys()) if (!f.has(id)) diffs.push(`${name}: trade ${id} is in the database but not in the file`);
  for (const id of f.keys()) if (!d.has(id)) diffs.push(`${name}: trade ${id} is in the file but not in the database`);
  for (const [id, ft] of f) {
    const dt = d.get(id);
    if (!dt) continue;
    for (const k of fields) if (String(ft[k]) !== String(dt[k])) diffs.push(`${name}: trade ${id} ${String(k)} is ${String(ft[k])} in the file, ${String(dt[k])} in the database`);
  }
}

export async function checkConsistency(dataDir: string, reader: SignalReader, recentLimit = 1000): Promise<ConsistencyReport> {
  const dir = path.join(dataDir, 'signals');
  const diffs: string[] = [];
  const checked: Record<string, number> = {};
  const lastSeq = await reader.lastSeq();
  try {
    const meta = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8')) as { lastSeq: number };
    if (meta.lastSeq !== lastSeq) diffs.push(`metadata.json: lastSeq ${meta.lastSeq}, database ${lastSeq}`);
  } catch (err) { diffs.push(`metadata.json: unreadable (${(err as Error).message})`); }

  const activeFields: (keyof ActiveTrade)[] = ['pair', 'direction', 'entryPrice', 'openSeq'];
  const active = await readArray<ActiveTrade>(path.join(dir, 'active.json'), diffs);
  if (active) { const db = await reader.activeTrades(); compare('active.json', active, db, diffs, activeFields); checked.active = db.length; }

  const doneFields: (keyof CompletedTrade)[] = ['pair', 'direction', 'entryPrice', 'exitPrice', 'pnlPct', 'closeSeq'];
  const recent = await readArray<CompletedTrade>(path.join(dir, 'completed_trades.json'), diffs);
  if (recent) { const db = await reader.recentCompleted(recentLimit); compare('completed_trades.json', recent, db, diffs, doneFields); checked.completedRecent = db.length; }

  const months = (await readdir(path.join(dir, 'closed')).catch(() => [] as string[])).filter((f) => /^\d{4}-\d{2}\.json$/.test(f));
  const first = await reader.firstClosedAt();
  for (const m of first ? monthsSince(first) : []) {
    const db = await reader.completedBetween(...monthRange(m));
    if (!db.length) continue;
    if (!months.includes(`${m}.json`)) { diffs.push(`closed/${m}.json: missing (${db.length} trades closed that month)`); continue; }
    const file = await readArray<CompletedTrade>(path.join(dir, 'closed', `${m}.json`), diffs);
    if (file) compare(`closed/${m}.json`, file, db, diffs, doneFields);
    checked[`closed/${m}`] = db.length;
  }
  return { ok: diffs.length === 0, differences: diffs, checked };
}
