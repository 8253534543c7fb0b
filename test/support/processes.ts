/**
 * Real server processes for multi-process tests: `node --import tsx src/main.ts` with the given env,
 * waited for until /health answers. `kill()` sends SIGKILL (or another signal) and waits for exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { testEnv } from './app.js';

export interface ServerProcess { url: string; port: number; child: ChildProcess; output(): string; kill(signal?: NodeJS.Signals): Promise<void> }

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export async function spawnServer(overrides: Record<string, string | undefined> = {}, opts: { redis?: boolean; waitHealth?: boolean } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const env = { ...process.env, ...testEnv({ PORT: String(port), LOG_LEVEL: 'warn', ...overrides }, opts) } as NodeJS.ProcessEnv;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const url = `http://127.0.0.1:${port}`;
  const proc: ServerProcess = {
    url, port, child, output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  if (opts.waitHealth === false) return proc;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${out.slice(-2000)}`);
    try { if ((await fetch(`${url}/health`)).ok) return proc; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.kill();
  throw new Error(`server did not become healthy: ${out.slice(-2000)}`);
}
