/**
 * Exchange fakes in a child process (bench/*-fakes.ts), so a bench's own process (its CPU time, its event loop)
 * holds only the code under test. The child sends { ready: origins } once listening and answers each command
 * with the command's id.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));

/** Forks bench/<file> and returns its origins and a request/answer helper over IPC. */
export async function startFakes(file: string) {
  const child = fork(path.join(dir, file), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const origins = await new Promise<{ binance: string; bybit: string }>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { ready: { binance: string; bybit: string } }).ready));
    child.once('exit', (code) => reject(new Error(`fakes exited ${code}`)));
  });
  let seq = 0;
  const ask = <T>(m: Record<string, unknown>) => new Promise<T>((resolve) => {
    const id = ++seq;
    const on = (x: unknown) => { if ((x as { id?: number }).id === id) { child.off('message', on); resolve(x as T); } };
    child.on('message', on);
    child.send({ ...m, id });
  });
  return { origins, ask, stop: () => { child.disconnect(); child.kill(); } };
}
