/**
 * SignalDistributor: the /ws/signals endpoint. Authenticates at the HTTP upgrade (401, no socket, for
 * a missing, forged, expired or used credential: a Bearer JWT, a single-use ticket as ?ticket=, or the
 * deprecated ?token=), caps sockets per user (the one over the cap is accepted and closed with 1008,
 * so the client sees why), keeps one Connection per socket, routes each signal from
 * the SignalSequencer through the SubscriptionIndex (serialised once per fan-out), answers client
 * messages, pings every `pingIntervalMs` and terminates peers that missed the previous ping.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { PrismaClient } from '@prisma/client';
import { WebSocketServer, type WebSocket } from 'ws';
import { TOPICS, type Bus } from '../bus/index.js';
import { bearerToken, type AuthUser, type TokenService } from '../http/auth.js';
import type { ErrorCode } from '../lib/error-codes.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Signal, SignalReader } from '../signals/index.js';
import type { SubscriptionFollows } from '../subscriptions/index.js';
import { Connection } from './connection.js';
import type { DistributionMetrics } from './metrics.js';
import { CLOSE, frames, parseClientMessage, ProtocolError, textFrame, type ClientMessage } from './protocol.js';
import { missedSignals } from './replay.js';
import { SignalSequencer } from './sequencer.js';
import type { Release, SocketCap } from './socket-cap.js';
import { SubscriptionIndex } from './subscription-index.js';
import type { TicketStore } from './tickets.js';

export const WS_PATH = '/ws/signals';

export interface DistributorOptions {
  pingIntervalMs: number;
  maxBufferedBytes: number;
  maxMessageBytes: number;
  catchupIntervalMs: number;
  /** Period of the routes resync (see SubscriptionIndex.resync). */
  routesResyncMs: number;
  /** For the 1008 close reason (the cap itself is `DistributorDeps.cap`). */
  maxSocketsPerUser: number;
}

export interface DistributorDeps {
  prisma: PrismaClient;
  /** The subscriptions module: which subscriptions follow signals (the routing table's source). */
  subscriptions: SubscriptionFollows;
  reader: SignalReader;
  bus: Bus;
  tokens: TokenService;
  log: Logger;
  metrics: DistributionMetrics;
  options: DistributorOptions;
  /** Single-use upgrade tickets (POST /api/ws-ticket). */
  tickets: TicketStore;
  /** Sockets per user. */
  cap: SocketCap;
}

type Authenticated = { user: AuthUser & { exp: number } } | { refused: { code: ErrorCode; message: string } };

/** setTimeout's largest delay; longer token lifetimes are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SignalDistributor {
  readonly index: SubscriptionIndex;
  readonly sequencer: SignalSequencer;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Connection>();
  private readonly log: Logger;
  private heartbeat?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private resyncing: Promise<void> | null = null;
  private unsubscribe?: () => void;
  private unwatchReconnect?: () => void;
  private stopping = false;
  private dirty: Connection[] = [];
  private flushScheduled = false;
  /** Start times of the fan-outs whose frames the next flush writes (for the latency histogram). */
  private fanoutStarts: number[] = [];

  constructor(private readonly deps: DistributorDeps) {
    this.log = deps.log.child({ module: 'distribution' });
    this.index = new SubscriptionIndex(deps.subscriptions);
    this.sequencer = new SignalSequencer({ prisma: deps.prisma, bus: deps.bus, log: this.log, forward: (s) => this.fanOut(s), catchupIntervalMs: deps.options.catchupIntervalMs });
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: deps.options.maxMessageBytes, clientTracking: false });
  }

  /** Sockets open on this process. */
  get connected(): number { return this.conns.size; }

  async start(): Promise<void> {
    await this.deps.cap.start();
    this.unsubscribe = this.deps.bus.subscribe(TOPICS.subscriptionChanged, (m) => this.subscriptionChanged(m));
    await this.sequencer.start();
    this.heartbeat = setInterval(() => this.beat(), this.deps.options.pingIntervalMs);
    this.heartbeat.unref();
    this.resyncTimer = setInterval(() => { void this.resyncRoutes('periodic'); }, this.deps.options.routesResyncMs);
    this.resyncTimer.unref();
    // Changes published while the bus was down are lost: reload everyone's routes once it is back.
    this.unwatchReconnect = this.deps.bus.onReconnect?.(() => { void this.resyncRoutes('bus reconnected'); });
  }

  /** Reloads every connected user's subscriptions (one run at a time); resolves when done. */
  resyncRoutes(why: string): Promise<void> {
    this.resyncing ??= this.index.resync()
      .then((n) => {
        if (!n) return;
        this.deps.metrics.resyncCorrections(n);
        this.log.warn({ users: n, why }, 'routes resync corrected users whose subscription change was not announced');
      }, (err) => this.log.error({ err, why }, 'routes resync failed; retried on the next period'))
      .finally(() => { this.resyncing = null; });
    return this.resyncing;
  }

  /** Closes every socket (1001) and stops routing. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.heartbeat);
    clearInterval(this.resyncTimer);
    this.unsubscribe?.();
    this.unwatchReconnect?.();
    await this.resyncing;
    await this.sequencer.stop();
    this.closeAll();
    this.wss.close();
    await this.deps.cap.stop();
  }

  /** Takes over upgrades to /ws/signals on `server`. */
  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(server, req, socket, head));
    // Upgraded sockets keep http.Server#close() waiting; close them first so shutdown never hangs.
    const close = server.close.bind(server);
    server.close = ((cb?: (err?: Error) => void) => { this.closeAll(); return close(cb); }) as typeof server.close;
  }

  private upgrade(server: http.Server, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH) {
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'NOT_FOUND', 'no WebSocket endpoint here');
      return;
    }
    if (this.stopping) return refuse(socket, 503, 'SHUTTING_DOWN', 'server is shutting down');
    this.authenticate(req, url).then(async (auth) => {
      if ('refused' in auth) return refuse(socket, 401, auth.refused.code, auth.refused.message);
      const { user } = auth;
      const release = await this.deps.cap.acquire(user.id);
      if (socket.destroyed || this.stopping) {
        release?.();
        if (!socket.destroyed) refuse(socket, 503, 'SHUTTING_DOWN', 'server is shutting down');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        if (release) return this.open(ws, user, release);
        this.deps.metrics.closed('too_many_sockets');
        this.log.info({ userId: user.id, max: this.deps.options.maxSocketsPerUser }, 'socket over the per-user cap closed');
        ws.close(CLOSE.policyViolation, `too many sockets for this user (at most ${this.deps.options.maxSocketsPerUser})`);
        setTimeout(() => ws.terminate(), 10_000).unref();
      });
    }).catch((err: unknown) => {
      // The ticket store or the cap's Redis failed: the credential may be fine, so not a 401.
      this.log.error({ err }, 'WebSocket upgrade failed');
      if (!socket.destroyed) refuse(socket, 503, 'UNAVAILABLE', 'could not authenticate now; try again');
    });
  }

  /**
   * The user behind an upgrade request. Credentials, first found wins: `Authorization: Bearer <JWT>`,
   * `?ticket=` (single use, redeemed here), `?token=<JWT>` (deprecated: the JWT lands in access logs).
   */
  private async authenticate(req: http.IncomingMessage, url: URL): Promise<Authenticated> {
    const header = bearerToken(req.headers.authorization);
    const ticket = url.searchParams.get('ticket');
    const token = header ?? (ticket === null ? url.searchParams.get('token') : null);
    if (token) {
      this.deps.metrics.authenticated(header ? 'header' : 'query_token');
      try {
        return { user: this.deps.tokens.verify(token) };
      } catch (err) {
        return { refused: { code: err instanceof AppError ? err.code : 'TOKEN_INVALID', message: (err as Error).message } };
      }
    }
    if (ticket !== null) {
      this.deps.metrics.authenticated('ticket');
      const claims = await this.deps.tickets.redeem(ticket);
      if (!claims) return { refused: { code: 'TICKET_INVALID', message: 'ticket unknown, used or expired; request a new one from POST /api/ws-ticket' } };
      if (claims.exp && claims.exp <= Date.now()) return { refused: { code: 'TOKEN_EXPIRED', message: 'token expired' } };
      return { user: claims };
    }
    return { refused: { code: 'UNAUTHORIZED', message: 'authentication required' } };
  }

  private open(ws: WebSocket, user: AuthUser & { exp: number }, release: Release): void {
    const conn = new Connection(ws, user.id, this.deps.options.maxBufferedBytes, {
      sent: (n) => { this.deps.metrics.sent += n; },
      dirty: (c) => this.markDirty(c),
      slow: (c) => { this.deps.metrics.closed('slow'); this.index.remove(c); this.log.warn({ userId: c.userId }, 'slow consumer closed'); },
    });
    this.conns.add(conn);
    this.armExpiry(conn, user.exp);
    ws.on('pong', () => { conn.alive = true; });
    ws.on('message', (data: Buffer, isBinary: boolean) => { conn.inbox = conn.inbox.then(() => this.message(conn, data, isBinary)); });
    ws.on('error', (err) => this.log.debug({ err: err.message, userId: conn.userId }, 'socket error'));
    ws.on('close', () => { conn.closed = true; clearTimeout(conn.expiryTimer); this.index.remove(conn); this.conns.delete(conn); release(); });
    conn.inbox = this.index.add(conn, () => conn.send(frames.welcome(this.sequencer.lastSeq))).catch((err) => {
      this.log.error({ err, userId: conn.userId }, 'loading subscriptions failed');
      conn.close(1011, 'internal error');
    });
  }

  private armExpiry(conn: Connection, exp: number): void {
    if (!exp) return;
    const left = exp - Date.now();
    conn.expiryTimer = setTimeout(() => {
      if (left > MAX_TIMER_MS) return this.armExpiry(conn, exp);
      this.deps.metrics.closed('token_expired');
      conn.close(CLOSE.tokenExpired, 'token expired');
    }, Math.min(Math.max(left, 0), MAX_TIMER_MS));
    conn.expiryTimer.unref();
  }

  private async message(conn: Connection, data: Buffer, isBinary: boolean): Promise<void> {
    if (conn.closed) return;
    try {
      if (isBinary) throw new ProtocolError('BAD_MESSAGE', 'send JSON text frames');
      await this.handle(conn, parseClientMessage(data));
    } catch (err) {
      if (err instanceof ProtocolError) { conn.send(frames.error(err.code, err.message)); return; }
      this.log.error({ err, userId: conn.userId }, 'client message failed');
      conn.send(frames.error('INTERNAL', 'the server could not handle this message'));
    }
  }

  private async handle(conn: Connection, msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'PING': conn.send(frames.pong); return;
      case 'SETTINGS':
        await this.deps.prisma.user.update({ where: { id: conn.userId }, data: { autoExecute: msg.autoExecute } });
        conn.send(frames.settings(msg.autoExecute));
        return;
      case 'RESUME': return this.resume(conn, msg.lastSeq);
    }
  }

  private async resume(conn: Connection, lastSeq: number): Promise<void> {
    if (!conn.beginReplay()) throw new ProtocolError('RESUME_IN_PROGRESS', 'a RESUME is already running');
    try {
      const { signals, gap } = await missedSignals(this.deps.prisma, this.index.routesOf(conn.userId), lastSeq);
      if (gap && !conn.send(frames.gap(gap.fromSeq, gap.toSeq))) return;
      conn.endReplay(signals);
      this.log.debug({ userId: conn.userId, lastSeq, replayed: signals.length, gap }, 'resume replayed');
    } catch (err) {
      conn.abortReplay();
      throw err;
    }
  }

  /** One signal to every matching socket: serialised and framed once, the same bytes written to each. */
  private fanOut(signal: Signal): void {
    const targets = this.index.targets(signal.strategyId);
    if (!targets) return;
    const started = performance.now();
    const { seq, pair } = signal;
    let frame: Buffer | undefined;
    // forEach, not for…of entries: no [key, value] array per recipient.
    targets.forEach((pairs, conn) => {
      if (pairs && !pairs.has(pair)) return;
      frame ??= textFrame(frames.signal(signal));
      conn.deliver(seq, frame);
    });
    if (frame) this.fanoutStarts.push(started);
  }

  /** Flushes every connection with queued frames once per event-loop turn (after I/O, via setImmediate). */
  private markDirty(conn: Connection): void {
    this.dirty.push(conn);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const list = this.dirty;
      this.dirty = [];
      for (const c of list) c.flush();
      const done = performance.now();
      for (const t of this.fanoutStarts) this.deps.metrics.fanoutSeconds((done - t) / 1000);
      this.fanoutStarts = [];
    });
  }

  private subscriptionChanged(m: unknown): void {
    const userId = (m as { userId?: unknown })?.userId;
    if (typeof userId !== 'string') return;
    this.index.changed(userId).catch((err) => this.log.error({ err, userId }, 'reloading subscriptions failed'));
  }

  private beat(): void {
    for (const conn of this.conns) {
      if (conn.closed) continue;
      if (!conn.alive) {
        this.deps.metrics.closed('dead');
        this.log.info({ userId: conn.userId }, 'dead peer terminated');
        conn.terminate();
        continue;
      }
      conn.alive = false;
      try { conn.ws.ping(); } catch { /* closing */ }
    }
  }

  private closeAll(): void {
    for (const conn of this.conns) conn.close(CLOSE.goingAway, 'server shutting down');
    const left = [...this.conns];
    if (left.length) setTimeout(() => { for (const c of left) c.ws.terminate(); }, 1000).unref();
  }
}

/** Answers a refused upgrade with a plain HTTP response and closes the socket (no WebSocket is made). */
function refuse(socket: Duplex, status: number, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Service Unavailable';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.destroy();
}
