/**
 * Bus: the Broker seam between the coordinator and its consumers. `publish(topic, message)` reaches
 * every subscriber of the topic in every process sharing the bus. InProcessBus for one process,
 * RedisBus (ioredis pub/sub) for several. Delivery is at-most-once: consumers that must not miss
 * anything (executor, JSON store, WebSocket replay) catch up from PostgreSQL by seq.
 * A throwing handler is logged and never stops the other handlers.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import { logRedisState } from '../lib/redis-state.js';

export type Handler = (message: unknown) => void | Promise<void>;

export interface Bus {
  publish(topic: string, message: unknown): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(topic: string, handler: Handler): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly kind: 'memory' | 'redis';
  /** For /health: true when the bus can deliver. */
  healthy(): Promise<boolean>;
  /**
   * Calls `handler` each time the bus is delivering again after losing its connection (what was
   * published meanwhile is lost). Returns an unsubscribe. The in-process bus never loses messages.
   */
  onReconnect?(handler: () => void): () => void;
}

/** Topic names used across modules. */
export const TOPICS = {
  signalAccepted: 'signal.accepted',
  subscriptionChanged: 'subscription.changed',
  /** A strategy's webhook secret was rotated: { strategyId }. */
  webhookSecretChanged: 'strategy.webhook-secret-changed',
  /** A strategy's name, description, pairs or maxLagSeconds were edited: { strategyId }. */
  strategyChanged: 'strategy.changed',
  /** A strategy bot was created, edited, enabled, disabled or deleted: { strategyId, botId }; capturers reload their targets. */
  botsChanged: 'bots.changed',
  /** Outbox rows were queued (src/notifications): delivery loops in every process claim at once. */
  notificationQueued: 'notification.queued',
} as const;

class HandlerSet {
  private readonly handlers = new Map<string, Set<Handler>>();
  constructor(private readonly log: Logger) {}

  add(topic: string, h: Handler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(h);
    return () => { set!.delete(h); };
  }

  has(topic: string) { return (this.handlers.get(topic)?.size ?? 0) > 0; }

  dispatch(topic: string, message: unknown): void {
    for (const h of this.handlers.get(topic) ?? []) {
      try {
        const r = h(message);
        if (r && typeof (r as Promise<void>).catch === 'function') {
          (r as Promise<void>).catch((err) => this.log.error({ err, topic }, 'bus handler failed'));
        }
      } catch (err) {
        this.log.error({ err, topic }, 'bus handler failed');
      }
    }
  }
}

/** Single-process bus: handlers run on the next microtask, never inside the publisher's call stack. */
export class InProcessBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly set: HandlerSet;
  constructor(log: Logger) { this.set = new HandlerSet(log); }
  async publish(topic: string, message: unknown) { queueMicrotask(() => this.set.dispatch(topic, message)); }
  subscribe(topic: string, handler: Handler) { return this.set.add(topic, handler); }
  async start() {}
  async stop() {}
  async healthy() { return true; }
}

/** Redis pub/sub bus: one publisher and one subscriber connection per process. */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly set: HandlerSet;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly channels = new Set<string>();
  private readonly reconnectHandlers = new Set<() => void>();
  private stopped = false;
  private readonly detach: (() => void)[];
  private readyOnce = false;

  constructor(url: string, private readonly log: Logger, private readonly prefix = 'sm:') {
    this.set = new HandlerSet(log);
    const opts = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    // One warning per outage and connection, not one per reconnect attempt (stop() detaches them).
    this.detach = [logRedisState(this.pub, log, { name: 'bus-pub' }), logRedisState(this.sub, log, { name: 'bus-sub' })];
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      const topic = channel.toString().slice(this.prefix.length);
      let message: unknown;
      try { message = JSON.parse(payload.toString()); } catch { log.warn({ topic }, 'bus: malformed message dropped'); return; }
      this.set.dispatch(topic, message);
    });
    // ioredis re-subscribes on reconnect, just after 'ready'; subscribing again (idempotent) and waiting
    // for it means the handlers run once messages flow again, so a resync cannot miss a change.
    this.sub.on('ready', () => {
      if (!this.readyOnce) { this.readyOnce = true; return; }
      const channels = [...this.channels].map((t) => this.prefix + t);
      void (channels.length ? this.sub.subscribe(...channels) : Promise.resolve()).then(() => {
        log.info('bus: redis subscriber reconnected');
        for (const h of this.reconnectHandlers) { try { h(); } catch (err) { log.error({ err }, 'bus reconnect handler failed'); } }
      }, (err) => log.warn({ err: (err as Error).message }, 'bus: re-subscribing after reconnect failed'));
    });
  }

  onReconnect(handler: () => void) {
    this.reconnectHandlers.add(handler);
    return () => { this.reconnectHandlers.delete(handler); };
  }

  async start() { await Promise.all([this.pub.connect(), this.sub.connect()]); }

  async publish(topic: string, message: unknown) {
    await this.pub.publish(this.prefix + topic, JSON.stringify(message));
  }

  subscribe(topic: string, handler: Handler) {
    if (!this.channels.has(topic)) {
      this.channels.add(topic);
      this.sub.subscribe(this.prefix + topic).catch((err) => this.log.error({ err, topic }, 'redis subscribe failed'));
    }
    return this.set.add(topic, handler);
  }

  async healthy() {
    try { return (await this.pub.ping()) === 'PONG'; } catch { return false; }
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const d of this.detach) d();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}

export function createBus(redisUrl: string | undefined, log: Logger, prefix?: string): Bus {
  return redisUrl ? new RedisBus(redisUrl, log, prefix) : new InProcessBus(log);
}
