/**
 * Distribution module: the WebSocket endpoint /ws/signals (the only place that imports `ws`).
 * Vocabulary: the sequencer makes the bus's signals gapless and ordered per process, the index routes
 * them to connections by strategy and pair, a connection tracks what it sent (no duplicates) and its
 * bounded buffer. See distributor.ts for the lifecycle and protocol.ts for the wire format.
 */
import type { PrismaClient } from '@prisma/client';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/index.js';
import type { Component } from '../component.js';
import type { Config } from '../config/index.js';
import { currentUser, type TokenService } from '../http/auth.js';
import { createLimiter } from '../http/rate-limit.js';
import type { Logger } from '../lib/logger.js';
import type { SignalReader } from '../signals/index.js';
import type { SubscriptionFollows } from '../subscriptions/index.js';
import { SignalDistributor } from './distributor.js';
import { DistributionMetrics } from './metrics.js';
import { LocalSocketCap, RedisSocketCap } from './socket-cap.js';
import { ticketRoutes } from './ticket-routes.js';
import { MemoryTicketStore, RedisTicketStore } from './tickets.js';

export { SignalDistributor, WS_PATH } from './distributor.js';
export { CLOSE } from './protocol.js';
export { REPLAY_LIMIT } from './replay.js';

/**
 * The distributor as an app Component (role `api`): started after the bus, attached to the HTTP server,
 * with POST /api/ws-ticket. Tickets and the per-user socket count live in Redis when REDIS_URL is set
 * (any worker redeems a ticket once; the cap counts every worker), else in this process.
 */
export function distributionComponent(deps: {
  config: Pick<Config, 'ws' | 'redisPrefix'>; log: Logger; registry: Registry; prisma: PrismaClient; reader: SignalReader; bus: Bus; tokens: TokenService;
  subscriptions: SubscriptionFollows; redis?: Redis;
}): Component & { distributor: SignalDistributor } {
  let distributor: SignalDistributor;
  const metrics = new DistributionMetrics(deps.registry, () => distributor?.connected ?? 0);
  const { ws, redisPrefix } = deps.config;
  const { redis } = deps;
  const tickets = redis ? new RedisTicketStore(redis, redisPrefix, ws.ticketTtlMs) : new MemoryTicketStore(ws.ticketTtlMs);
  const cap = redis
    ? new RedisSocketCap({ redis, prefix: redisPrefix, max: ws.maxSocketsPerUser, log: deps.log.child({ module: 'distribution' }) })
    : new LocalSocketCap(ws.maxSocketsPerUser);
  distributor = new SignalDistributor({
    prisma: deps.prisma, subscriptions: deps.subscriptions, reader: deps.reader, bus: deps.bus, tokens: deps.tokens, log: deps.log, metrics,
    options: ws, tickets, cap,
  });
  const limiter = createLimiter({
    prefix: redisPrefix, name: 'ws-ticket', perMinute: ws.ticketsPerMinute, redis,
    key: (req) => `wst:${currentUser(req).id}`, message: 'too many WebSocket tickets; try again in a minute',
  });
  return {
    name: 'ws',
    distributor,
    routers: [ticketRoutes({ tokens: deps.tokens, tickets, limiter })],
    start: () => distributor.start(),
    stop: () => distributor.stop(),
    attach: (server) => distributor.attach(server),
    health: async () => ({ ok: true, clients: distributor.connected, lastSeq: distributor.sequencer.lastSeq }),
  };
}
