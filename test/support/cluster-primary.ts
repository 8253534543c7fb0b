/**
 * A cluster primary standing in for PM2's cluster mode (PM2 uses node's cluster module too): forks
 * CLUSTER_WORKERS workers of src/main.ts, each with NODE_APP_INSTANCE = 0, 1, … as PM2 sets it, all
 * listening on the one shared PORT. SIGTERM stops the workers (SIGTERM each) and then the primary.
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const workers = Number(process.env.CLUSTER_WORKERS ?? 2);
cluster.setupPrimary({ exec: fileURLToPath(new URL('../../src/main.ts', import.meta.url)), execArgv: ['--import', 'tsx'] });
for (let i = 0; i < workers; i++) cluster.fork({ NODE_APP_INSTANCE: String(i) });
cluster.on('exit', (w, code, signal) => { if (!stopping) process.stderr.write(`worker ${w.id} exited (${code ?? signal})\n`); });

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  const live = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
  if (!live.length) process.exit(0);
  cluster.on('exit', () => { if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) process.exit(0); });
  for (const w of live) w!.process.kill('SIGTERM');
});
