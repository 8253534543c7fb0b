/**
 * Durable atomic file writes: write a temp file with a name unique to this write (pid, random, counter),
 * fsync it, rename it over the target, fsync the directory. A crash at any instant leaves the old or the
 * new file, never a torn one; concurrent writers (threads or processes) never share a temp file.
 * (write-file-atomic does the same minus the directory fsync; we need that fsync for the rename to be durable.)
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

const IOV_MAX = 512;

/** Writes every buffer in order (writev in groups, completing any short write). */
async function writeAll(fh: FileHandle, parts: Buffer[]): Promise<void> {
  for (let i = 0; i < parts.length; i += IOV_MAX) {
    const group = parts.slice(i, i + IOV_MAX);
    const total = group.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(group);
    if (bytesWritten < total) await fh.write(Buffer.concat(group).subarray(bytesWritten));
  }
}

/** A temp file written and fsynced, not yet in place: `commit` renames it over its target and fsyncs the directory. */
export interface StagedFile {
  commit(): Promise<void>;
  /** Removes the temp file (the target is untouched). */
  abort(): Promise<void>;
}

/**
 * First half of a durable atomic write: writes `data` to a temp file next to `file`, unique to this write,
 * and fsyncs it. Several files can be staged at once (their fsyncs overlap) and then committed in the
 * order a reader needs. An array of buffers is written as is (writev), so callers with cached pieces
 * never build one large buffer.
 */
export async function stageFile(file: string, data: string | Buffer | Buffer[]): Promise<StagedFile> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}${++counter}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    if (Array.isArray(data)) await writeAll(fh, data);
    else await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  return {
    async commit() {
      try {
        await rename(tmp, file);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await fsyncDir(path.dirname(file));
    },
    abort: () => unlink(tmp).catch(() => {}),
  };
}

/** Writes `data` to `file` atomically and durably (file and directory fsynced). */
export async function writeFileDurable(file: string, data: string | Buffer | Buffer[]): Promise<void> {
  await (await stageFile(file, data)).commit();
}

/**
 * Removes temp files a crashed writer left next to `names` in `dir` (`<name>.<suffix>`; for an empty
 * `names`, every `*.tmp`). Returns the removed names. The real files are never touched.
 */
export async function removeLeftoverTemps(dir: string, names: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (names.includes(entry)) continue;
    const leftover = names.length ? names.some((n) => entry.startsWith(n + '.')) : entry.endsWith('.tmp');
    if (leftover) {
      await unlink(path.join(dir, entry)).catch(() => {});
      removed.push(entry);
    }
  }
  return removed;
}
