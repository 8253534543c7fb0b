/**
 * A process's own /health + /metrics listener (METRICS_PORT). Under PM2 cluster mode the shared API port
 * answers from whichever worker takes the connection, so Prometheus scrapes each worker on its own port
 * instead (METRICS_PORT + NODE_APP_INSTANCE). The port is bound by this process alone (`exclusive`, not
 * through the cluster primary); a port still held by the worker being replaced (`pm2 reload` starts the
 * new worker before stopping the old one) is retried every second instead of failing the start.
 */
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.js';

export interface OwnListener {
  /** Resolves with the URL once the port is bound (it may wait for the previous holder to let go). */
  readonly bound: Promise<string>;
  /** Stops retrying and closes the listener. Idempotent. */
  close(): Promise<void>;
}

/** Listens on `port` (exclusive to this process), retrying every `retryMs` while the port is in use. */
export function listenOwnPort(handler: RequestListener, port: number, host: string, log: Logger, retryMs = 1000): OwnListener {
  const server = http.createServer(handler);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let warned = false;
  const bound = new Promise<string>((resolve) => {
    const attempt = () => {
      if (closed) return;
      const onError = (err: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        if (!warned) { warned = true; log.warn({ port, code: err.code }, 'metrics port busy; retrying every second'); }
        timer = setTimeout(attempt, retryMs);
        timer.unref();
      };
      const onListening = () => {
        server.off('error', onError);
        const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
        log.info({ url }, 'metrics endpoint listening');
        resolve(url);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ port, host, exclusive: true });
    };
    attempt();
  });
  return {
    bound,
    close: () => {
      closed = true;
      clearTimeout(timer);
      if (!server.listening) return Promise.resolve();
      return new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    },
  };
}
