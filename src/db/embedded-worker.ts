/**
 * Worker thread of the embedded database: opens PGlite on DATA_DIR/pglite and serves the PostgreSQL wire
 * protocol (embedded-wire.ts) on a private unix socket. Running here keeps PGlite's WebAssembly work (every
 * query) off the main event loop, so a slow query never delays WebSocket fan-out, webhooks or orders.
 * Messages with the parent: ← {type:'stop'}; → {type:'ready', address} | {type:'fatal', message} |
 * {type:'log', level, msg, data} | {type:'stopped'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { serveWire } from './embedded-wire.js';

/** What the parent passes in `workerData`. */
export interface EmbeddedWorkerData { pgDir: string; socketPath?: string; password: string; idleInTxMs: number }

const data = workerData as EmbeddedWorkerData;
const port = parentPort!;
const log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => port.postMessage({ type: 'log', level, msg, data: fields });

try {
  const db = await PGlite.create(data.pgDir);
  const wire = await serveWire(db, { socketPath: data.socketPath, password: data.password, idleInTxMs: data.idleInTxMs, log });
  port.on('message', async (m: { type: string }) => {
    if (m?.type !== 'stop') return;
    try {
      await wire.stop();
      await db.close();
    } catch (err) {
      log('error', 'embedded database: stop failed', { err: (err as Error).message });
    }
    port.postMessage({ type: 'stopped' });
    port.close();
  });
  port.postMessage({ type: 'ready', address: wire.address });
} catch (err) {
  port.postMessage({ type: 'fatal', message: (err as Error).message });
}
