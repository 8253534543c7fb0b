/**
 * A local Telegram Bot API server for tests: answers /bot<token>/<method> with the Bot API's shapes
 * (getMe, getUpdates with long polling, deleteWebhook, setWebhook, sendMessage), records every sent
 * message with its time, lets a test type as a user (`userSends`), and can be taken down (HTTP 502) or
 * answer 429 with retry_after. It also counts sendMessage calls per second per chat and for the bot,
 * so tests can assert the limits were kept.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage { chatId: string; text: string; at: number; parseMode?: string }

export class FakeTelegram {
  readonly sent: SentMessage[] = [];
  readonly calls: string[] = [];
  down = false;
  /** When > 0, the next sendMessage calls answer 429 with this retry_after (seconds) and decrement tooManyLeft. */
  retryAfter = 0;
  tooManyLeft = 0;
  private server?: http.Server;
  private updates: unknown[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private waiters: (() => void)[] = [];
  private listeners: ((m: SentMessage) => void)[] = [];

  constructor(readonly token = '123456:TEST-token_abcdefghijklmnopqrstuv', readonly username = 'sm_test_bot') {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => void this.handle(req, res, body));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.waiters.splice(0)) w();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A user types `text` in the private chat `chatId`. */
  userSends(chatId: number, text: string): void {
    this.updates.push({
      update_id: this.nextUpdateId++,
      message: { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: 'T' }, from: { id: chatId, is_bot: false, first_name: 'T' }, text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {}) },
    });
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves with the first message (sent from now on, or already sent) to `chatId` matching `pred`. */
  waitForMessage(chatId: string, pred: (m: SentMessage) => boolean = () => true, ms = 10_000): Promise<SentMessage> {
    const found = this.sent.find((m) => m.chatId === chatId && pred(m));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.listeners = this.listeners.filter((l) => l !== l2); reject(new Error(`no Telegram message to ${chatId} within ${ms} ms`)); }, ms);
      const l2 = (m: SentMessage) => { if (m.chatId === chatId && pred(m)) { clearTimeout(t); this.listeners = this.listeners.filter((l) => l !== l2); resolve(m); } };
      this.listeners.push(l2);
    });
  }

  /** Most messages sent in any 1-second window, to one chat (chatId) or in total. */
  maxPerSecond(chatId?: string, pred: (m: SentMessage) => boolean = () => true): number {
    const times = this.sent.filter((m) => (chatId === undefined || m.chatId === chatId) && pred(m)).map((m) => m.at).sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      max = Math.max(max, i - j + 1);
    }
    return max;
  }

  private reply(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    const m = /^\/bot([^/]+)\/(\w+)/.exec(req.url ?? '');
    if (!m || m[1] !== this.token) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const method = m[2]!;
    this.calls.push(method);
    let p: Record<string, any> = {};
    try { p = raw ? JSON.parse(raw) : {}; } catch { /* form bodies are not used by these methods */ }
    if (this.down && method === 'sendMessage') return this.reply(res, 502, { ok: false, error_code: 502, description: 'Bad Gateway' });
    switch (method) {
      case 'getMe': return this.reply(res, 200, { ok: true, result: { id: 123456, is_bot: true, first_name: 'SM', username: this.username } });
      case 'deleteWebhook': case 'setWebhook': return this.reply(res, 200, { ok: true, result: true });
      case 'getUpdates': {
        const offset = Number(p.offset ?? 0);
        this.updates = this.updates.filter((u) => (u as { update_id: number }).update_id >= offset);
        if (!this.updates.length) {
          const waitS = Math.min(Number(p.timeout ?? 0), 1);
          await new Promise<void>((r) => { const t = setTimeout(r, waitS * 1000); this.waiters.push(() => { clearTimeout(t); r(); }); });
        }
        if (res.destroyed) return;
        return this.reply(res, 200, { ok: true, result: this.updates.slice(0, Number(p.limit ?? 100)) });
      }
      case 'sendMessage': {
        if (this.tooManyLeft > 0) { this.tooManyLeft--; return this.reply(res, 429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${this.retryAfter}`, parameters: { retry_after: this.retryAfter } }); }
        const msg: SentMessage = { chatId: String(p.chat_id), text: String(p.text), at: Date.now(), parseMode: p.parse_mode };
        this.sent.push(msg);
        for (const l of [...this.listeners]) l(msg);
        return this.reply(res, 200, { ok: true, result: { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(p.chat_id), type: 'private' }, text: msg.text } });
      }
      default: return this.reply(res, 404, { ok: false, error_code: 404, description: `Not Found: method ${method}` });
    }
  }
}
