/**
 * A test client for /ws/signals on the real `ws` library: records every frame, lets a test wait for
 * a message matching a predicate, and exposes how the socket was refused or closed.
 */
import WebSocket from 'ws';

export interface WsMessage { type: string; seq?: number; signal?: { id: string; seq: number; strategyId: string; pair: string }; [k: string]: unknown }

export class WsClient {
  readonly messages: WsMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => { this.messages.push(JSON.parse(data.toString())); this.wake(); });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => { this.wake(); resolve({ code, reason: reason.toString() }); }));
  }

  /**
   * Opens a socket and waits for WELCOME. `via` chooses where the token goes: the Authorization header,
   * ?token= (deprecated), or 'ticket': POST /api/ws-ticket with it, then ?ticket= (what browsers do).
   */
  static async connect(baseUrl: string, token: string, via: 'header' | 'query' | 'ticket' = 'header'): Promise<WsClient> {
    const c = WsClient.open(baseUrl, await WsClient.credential(baseUrl, token, via));
    await new Promise<void>((resolve, reject) => { c.ws.once('open', () => resolve()); c.ws.once('error', reject); c.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused ${res.statusCode}`))); });
    await c.waitFor((m) => m.type === 'WELCOME');
    return c;
  }

  /** Starts an upgrade with the given credential (no waiting): `query` is the query string without "?". */
  static open(baseUrl: string, cred: { query?: string; headers?: Record<string, string> }): WsClient {
    const url = baseUrl.replace(/^http/, 'ws') + '/ws/signals' + (cred.query ? `?${cred.query}` : '');
    return new WsClient(new WebSocket(url, { headers: cred.headers ?? {} }));
  }

  /** A fresh single-use ticket for `token` from POST /api/ws-ticket. */
  static async ticket(baseUrl: string, token: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const body = await res.json() as { ticket?: string };
    if (res.status !== 201 || !body.ticket) throw new Error(`ws-ticket failed: ${res.status} ${JSON.stringify(body)}`);
    return body.ticket;
  }

  private static async credential(baseUrl: string, token: string, via: 'header' | 'query' | 'ticket') {
    if (via === 'header') return { headers: { authorization: `Bearer ${token}` } };
    if (via === 'query') return { query: `token=${encodeURIComponent(token)}` };
    return { query: `ticket=${encodeURIComponent(await WsClient.ticket(baseUrl, token))}` };
  }

  /** Attempts an upgrade that should be refused; resolves with the HTTP status and body. */
  static async refused(baseUrl: string, opts: { token?: string; via?: 'header' | 'query'; ticket?: string } = {}): Promise<{ status: number; body: string }> {
    const q = opts.ticket !== undefined ? `?ticket=${encodeURIComponent(opts.ticket)}` : opts.token && opts.via === 'query' ? `?token=${encodeURIComponent(opts.token)}` : '';
    const headers = opts.token && opts.via !== 'query' ? { authorization: `Bearer ${opts.token}` } : {};
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/ws/signals' + q, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => { ws.terminate(); reject(new Error('upgrade was accepted')); });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', () => {});
    });
  }

  send(msg: unknown): void { this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)); }

  get welcomeSeq(): number { return this.messages.find((m) => m.type === 'WELCOME')!.seq!; }
  get signals(): WsMessage[] { return this.messages.filter((m) => m.type === 'SIGNAL'); }

  /** Resolves with the first recorded message (from `from`) matching `pred`; rejects after `timeoutMs`. */
  async waitFor(pred: (m: WsMessage) => boolean, timeoutMs = 5000, from = 0): Promise<WsMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) throw new Error(`timed out waiting; got ${JSON.stringify(this.messages.map((m) => m.type + (m.seq ? ':' + m.seq : '')).slice(-20))}`);
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  /** Waits for the SIGNAL with this signal id. */
  signal(id: string, timeoutMs?: number) { return this.waitFor((m) => m.type === 'SIGNAL' && m.signal?.id === id, timeoutMs); }

  close(): void { this.ws.terminate(); }

  private wake() { for (const w of this.waiters.splice(0)) w(); }
}
