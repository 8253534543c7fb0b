/**
 * The PostgreSQL wire front of the embedded database (runs inside the worker, see embedded-worker.ts).
 * PGlite is ONE PostgreSQL session; this makes it behave like separate connections to its clients:
 *
 * - Authentication: every connection must send the password generated at start (cleartext request over a
 *   unix socket in a 0700 directory, compared in constant time) before anything reaches PGlite.
 * - Exclusive turns: a connection owns the session from its first message until a Sync or simple Query
 *   completes outside a transaction, so extended-protocol batches never interleave, and a transaction
 *   (also an aborted one) is only ever seen by the connection that opened it. An owner idle inside a
 *   transaction longer than `idleInTxMs` is disconnected (which rolls it back) so it cannot stall others.
 * - Per-connection names: prepared statement and portal names are prefixed with the connection's id, so a
 *   new pool client never meets "prepared statement ... already exists" from a closed one.
 * - Cleanup on disconnect: end any half-done batch (Sync), roll back its transaction, close its prepared
 *   statements, and DISCARD ALL when no other connection is open. No state survives into the next client.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const MAX_STARTUP = 10_000;
const AUTH_TIMEOUT_MS = 10_000;
const C = (s: string) => s.charCodeAt(0);
const T = { parse: C('P'), bind: C('B'), describe: C('D'), close: C('C'), execute: C('E'), sync: C('S'), query: C('Q'), terminate: C('X'), password: C('p') };

/** Builds one typed protocol message. */
function message(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const SYNC = message(T.sync, Buffer.alloc(0));
const query = (sql: string) => message(T.query, cstr(sql));

/** A FATAL ErrorResponse (what PostgreSQL sends before closing a connection it refuses). */
function fatal(code: string, text: string): Buffer {
  return message(C('E'), Buffer.concat([cstr('SFATAL'), cstr('VFATAL'), cstr(`C${code}`), cstr(`M${text}`), Buffer.from([0])]));
}

/** Reads a NUL-terminated string at `at`; returns it and the offset after the NUL. */
function readCString(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  if (end < 0) throw new Error('malformed message: unterminated string');
  return [buf.toString('utf8', at, end), end + 1];
}

type Item = { kind: 'msg'; type: number; data: Buffer } | { kind: 'cleanup' };

/** One client connection. */
class Conn {
  items: Item[] = [];
  readonly statements = new Set<string>();
  state: 'startup' | 'password' | 'ready' | 'closed' = 'startup';
  private buf: Buffer = Buffer.alloc(0);
  private startup?: Buffer;
  private user = '';
  private idleTimer?: NodeJS.Timeout;
  private authTimer?: NodeJS.Timeout;
  readonly prefix: string;

  constructor(readonly id: number, readonly socket: Socket, private readonly session: Session) {
    this.prefix = `c${id}_`;
    socket.setNoDelay(true);
    socket.on('data', (d) => { try { this.onData(d); } catch { this.socket.destroy(); } });
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    this.authTimer = setTimeout(() => { if (this.state !== 'ready') socket.destroy(); }, AUTH_TIMEOUT_MS);
  }

  send(d: Uint8Array) {
    if (this.state !== 'closed' && this.socket.writable) this.socket.write(Buffer.from(d));
  }

  /** Disconnects an owner that sits inside a transaction without sending anything. */
  armIdleTimer() {
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.session.log('warn', 'embedded database: connection idle inside a transaction too long, disconnecting it', { conn: this.id, ms: this.session.idleInTxMs });
      this.socket.destroy();
    }, this.session.idleInTxMs);
  }
  clearIdleTimer() { if (this.idleTimer) clearTimeout(this.idleTimer); this.idleTimer = undefined; }

  private onData(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.state !== 'closed') {
      if (this.state === 'startup') {
        if (this.buf.length < 8) return;
        const len = this.buf.readInt32BE(0);
        if (len < 8 || len > MAX_STARTUP) return void this.socket.destroy();
        if (this.buf.length < len) return;
        const code = this.buf.readInt32BE(4);
        const msg = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) { this.socket.write('N'); continue; }
        if (code !== PROTOCOL_3) return void this.socket.end(fatal('08P01', 'unsupported protocol version or cancel request'));
        this.startup = Buffer.from(msg);
        for (let at = 8; at < msg.length - 1;) {
          const [k, next] = readCString(msg, at);
          const [v, after] = readCString(msg, next);
          if (k === 'user') this.user = v;
          at = after;
        }
        this.state = 'password';
        const ask = Buffer.alloc(9); // AuthenticationCleartextPassword
        ask[0] = C('R'); ask.writeInt32BE(8, 1); ask.writeInt32BE(3, 5);
        this.socket.write(ask);
        continue;
      }
      if (this.buf.length < 5) return;
      const len = this.buf.readInt32BE(1);
      if (len < 4 || (this.state === 'password' && len > 1024)) return void this.socket.destroy(); // nothing big before the password
      if (this.buf.length < len + 1) return;
      const type = this.buf[0];
      const msg = Buffer.from(this.buf.subarray(0, len + 1));
      this.buf = this.buf.subarray(len + 1);
      if (this.state === 'password') {
        if (type !== T.password || !this.session.checkPassword(readCString(msg, 5)[0])) {
          this.session.log('warn', 'embedded database: connection refused, wrong password', { conn: this.id });
          return void this.socket.end(fatal('28P01', `password authentication failed for user "${this.user}"`));
        }
        clearTimeout(this.authTimer);
        this.state = 'ready';
        this.session.opened(this);
        this.push({ kind: 'msg', type: 0, data: this.startup! });
        continue;
      }
      if (type === T.terminate) return void this.socket.end();
      this.push({ kind: 'msg', type, data: this.rename(type, msg) });
    }
  }

  /** Prefixes non-empty statement and portal names with this connection's id (tracking its statements). */
  private rename(type: number, msg: Buffer): Buffer {
    const body = msg.subarray(5);
    const p = (name: string) => (name ? this.prefix + name : '');
    if (type === T.parse) {
      const [name, rest] = readCString(body, 0);
      if (name) this.statements.add(p(name));
      return name ? message(type, Buffer.concat([cstr(p(name)), body.subarray(rest)])) : msg;
    }
    if (type === T.bind) {
      const [portal, a] = readCString(body, 0);
      const [stmt, b] = readCString(body, a);
      return portal || stmt ? message(type, Buffer.concat([cstr(p(portal)), cstr(p(stmt)), body.subarray(b)])) : msg;
    }
    if (type === T.describe || type === T.close) {
      const [name] = readCString(body, 1);
      if (!name) return msg;
      if (type === T.close && body[0] === C('S')) this.statements.delete(p(name));
      return message(type, Buffer.concat([body.subarray(0, 1), cstr(p(name))]));
    }
    if (type === T.execute) {
      const [portal, rest] = readCString(body, 0);
      return portal ? message(type, Buffer.concat([cstr(p(portal)), body.subarray(rest)])) : msg;
    }
    return msg;
  }

  private push(item: Item) {
    this.items.push(item);
    this.session.wake(this);
  }

  private onClose() {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.clearIdleTimer();
    if (!wasReady) return;
    this.items = [{ kind: 'cleanup' }]; // drop unsent work: nobody is there to read its results
    this.session.wake(this);
  }
}

type LogFn = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** The single PGlite session and the turn-taking between connections. */
class Session {
  private owner: Conn | null = null;
  private readonly waiting: Conn[] = [];
  private readonly open = new Set<Conn>();
  private running = false;
  private readonly expected: Buffer;

  constructor(private readonly db: PGlite, password: string, readonly idleInTxMs: number, readonly log: LogFn) {
    this.expected = createHash('sha256').update(password).digest();
  }

  checkPassword(given: string): boolean {
    return timingSafeEqual(createHash('sha256').update(given).digest(), this.expected);
  }

  opened(c: Conn) { this.open.add(c); }

  wake(c: Conn) {
    if (c !== this.owner && !this.waiting.includes(c)) this.waiting.push(c);
    void this.pump();
  }

  private async pump() {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (!this.owner) {
          const next = this.waiting.shift();
          if (!next) return;
          this.owner = next;
        }
        const c = this.owner;
        const item = c.items.shift();
        if (!item) { if (c.state !== 'closed') c.armIdleTimer(); return; } // mid-batch or in a transaction: wait for this client
        c.clearIdleTimer();
        if (item.kind === 'cleanup') { await this.cleanup(c); this.owner = null; continue; } // a closed connection never holds the session
        const endsTurn = await this.execute(c, item);
        if (endsTurn && !this.db.isInTransaction()) {
          this.owner = null;
          if (c.items.length) this.waiting.push(c);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Runs one message; true when it ends the connection's turn (Sync, simple Query, startup). */
  private async execute(c: Conn, item: Extract<Item, { kind: 'msg' }>): Promise<boolean> {
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(item.data, { onRawData: (d) => c.send(d) }));
    } catch (err) {
      this.log('error', 'embedded database: message failed, disconnecting the client', { conn: c.id, err: (err as Error).message });
      c.socket.destroy();
      return true;
    }
    return item.type === 0 || item.type === T.sync || item.type === T.query;
  }

  /** Leaves the session as a fresh connection would find it. */
  private async cleanup(c: Conn) {
    this.open.delete(c);
    const run = (m: Buffer) => this.db.runExclusive(() => this.db.execProtocolRawStream(m, { onRawData: () => {} }));
    try {
      await run(SYNC); // ends an unfinished extended-protocol batch (and its "ignore until Sync" state)
      if (this.db.isInTransaction()) await run(query('ROLLBACK'));
      for (const name of c.statements) await run(message(T.close, Buffer.concat([Buffer.from('S'), cstr(name)])));
      if (c.statements.size) await run(SYNC);
      if (this.open.size === 0) await run(query('DISCARD ALL'));
    } catch (err) {
      this.log('error', 'embedded database: cleanup after a disconnect failed', { conn: c.id, err: (err as Error).message });
    }
  }

  /** Resolves once every queued turn (including disconnect cleanups) has run. */
  async drained(maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    while ((this.running || this.waiting.length) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  }
}

/** A listening wire front for `db` on the unix socket `socketPath` (or 127.0.0.1:0 when it is unset). */
export async function serveWire(db: PGlite, opts: { socketPath?: string; password: string; idleInTxMs: number; log: LogFn }): Promise<{ server: Server; address: string; stop(): Promise<void> }> {
  const session = new Session(db, opts.password, opts.idleInTxMs, opts.log);
  const sockets = new Set<Socket>();
  let nextId = 1;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Conn(nextId++, socket, session);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = () => { server.off('error', reject); resolve(); };
    if (opts.socketPath) server.listen(opts.socketPath, ready);
    else server.listen(0, '127.0.0.1', ready);
  });
  const a = server.address();
  const address = typeof a === 'string' ? a : `127.0.0.1:${a!.port}`;
  return {
    server, address,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await session.drained(5000); // let disconnect cleanups finish before the database is closed
    },
  };
}
