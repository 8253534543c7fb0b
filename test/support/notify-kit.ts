/**
 * Notification test kit: a webhook receiver that verifies the signature (and refuses timestamps older
 * than 5 minutes), a real SMTP server (smtp-server) whose mails are parsed with mailparser, and
 * helpers that write finished ExecutionLog rows with SQL (as the executor's finish statement would).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { App } from '../../src/app.js';
import { uniquePair } from './app.js';

/** The README's receiver check: t within 5 minutes, v1 = HMAC-SHA256(secret, "<t>.<raw body>"), constant-time compare. */
export function verifySignature(secret: string, header: string, rawBody: string, nowSeconds = Date.now() / 1000): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const got = Buffer.from(parts.v1 ?? '', 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export interface Received { path: string; eventId: string; signature: string; body: string; json: any; verified: boolean; at: number }

/** A webhook receiver: /hook/<key>; `secrets` maps key → signing secret; `status` answers with that code while set. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly secrets = new Map<string, string>();
  status = 200;
  delayMs = 0;
  url = '';
  private server?: http.Server;
  private listeners: (() => void)[] = [];

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', async () => {
        const key = (req.url ?? '').split('/')[2] ?? '';
        const signature = String(req.headers['x-signal-marketplace-signature'] ?? '');
        const verified = verifySignature(this.secrets.get(key) ?? '', signature, body);
        if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
        if (this.status !== 200 || !verified) { res.writeHead(verified ? this.status : 401); res.end(); return; }
        this.received.push({ path: req.url ?? '', eventId: String(req.headers['x-signal-marketplace-event-id'] ?? ''), signature, body, json: JSON.parse(body), verified, at: Date.now() });
        res.writeHead(200); res.end('ok');
        for (const l of this.listeners.splice(0)) l();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return (this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`);
  }

  for(key: string) { return this.received.filter((r) => r.path === `/hook/${key}`); }

  async waitFor(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => { const t = setTimeout(r, 200); this.listeners.push(() => { clearTimeout(t); r(); }); });
    }
  }

  async stop() { this.server?.closeAllConnections(); await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r())); }
}

/** A real SMTP server in this process; every accepted mail is parsed. */
export class MailSink {
  readonly mails: ParsedMail[] = [];
  private server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    onData: (stream, _session, cb) => { simpleParser(stream).then((m) => { this.mails.push(m); cb(); }, cb); },
  });
  port = 0;

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string) { return this.mails.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.text.includes(address))); }

  async stop() { await new Promise<void>((r) => this.server.close(() => r())); }
}

/** A strategy with one accepted signal, to hang finished executions on. */
export async function seedSignal(app: App) {
  const author = await app.db.prisma.user.create({ data: { email: `author-${randomUUID().slice(0, 12)}@test.local`, passwordHash: 'x', role: 'AUTHOR' } });
  const strategy = await app.db.prisma.strategy.create({ data: { name: `Notify ${randomUUID().slice(0, 6)}`, authorId: author.id } });
  const pair = uniquePair();
  const r = await app.coordinator.accept({ strategyId: strategy.id, pair, action: 'OPEN', direction: 'LONG', price: 100 } as never, 'api');
  return { strategyId: strategy.id, strategyName: strategy.name, signalId: r.signal.id, pair, authorId: author.id };
}

/**
 * Finished executions for `userId` on the signal: one CANCELLED keyless subscription each (no executor
 * anywhere picks it up), rows committed with executedAt = now() like the executor's finish statement.
 */
export async function finishedRows(app: App, sig: { strategyId: string; signalId: string; pair: string }, userId: string, rows: { status: string; error?: string | null; action?: 'OPEN' | 'CLOSE'; pnl?: number }[]): Promise<string[]> {
  const r = await app.db.pool.query<{ id: string }>(
    `WITH s AS (
       INSERT INTO "Subscription" (id, "userId", "strategyId", status, exchange, sizing, "updatedAt")
       SELECT gen_random_uuid(), $1, $2, 'CANCELLED', 'binance', '{"mode":"quote","amount":10}', now() FROM generate_series(1, $5::int)
       RETURNING id),
     n AS (SELECT id, row_number() OVER () AS i FROM s),
     v AS (SELECT * FROM unnest($6::text[], $7::text[], $8::text[], $9::numeric[]) WITH ORDINALITY AS v(status, error, action, pnl, i))
     INSERT INTO "ExecutionLog" (id, "userId", "subscriptionId", "signalId", exchange, "clientOrderId", status, error, pair, action, side, amount, price, "executedAt", paper, "realisedPnl")
     SELECT gen_random_uuid(), $1, n.id, $3, 'binance', 'n' || replace(gen_random_uuid()::text, '-', ''), v.status::"ExecutionStatus", v.error, $4, v.action,
       CASE WHEN v.action = 'CLOSE' THEN 'sell' ELSE 'buy' END, 0.5, 100, now(), true, v.pnl
     FROM n JOIN v ON v.i = n.i
     RETURNING id`,
    [userId, sig.strategyId, sig.signalId, sig.pair, rows.length, rows.map((x) => x.status), rows.map((x) => x.error ?? null), rows.map((x) => x.action ?? 'OPEN'), rows.map((x) => x.pnl ?? null)]);
  return r.rows.map((x) => x.id);
}

export async function waitUntil<T>(what: string, f: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
