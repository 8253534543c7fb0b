/**
 * Durable atomic file writes: write-file-atomic (unique temp name per write, fsync, rename) plus an
 * fsync of the directory so the rename itself survives a power loss. A crash at any instant leaves
 * the old or the new file, never a torn one; concurrent writers never share a temp file.
 */
import { open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Writes `data` to `file` atomically and durably (file and directory fsynced). */
export async function writeFileDurable(file: string, data: string | Buffer): Promise<void> {
  await writeFileAtomic(file, data, { fsync: true });
  await fsyncDir(path.dirname(file));
}

/**
 * Removes temp files a crashed writer left next to `names` in `dir` (write-file-atomic names them
 * `<name>.<hash>`). Returns the removed names. The real files are never touched.
 */
export async function removeLeftoverTemps(dir: string, names: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (names.includes(entry)) continue;
    if (names.some((n) => entry.startsWith(n + '.'))) {
      await unlink(path.join(dir, entry)).catch(() => {});
      removed.push(entry);
    }
  }
  return removed;
}
