/**
 * Distribution module: the WebSocket endpoint /ws/signals (the only place that imports `ws`).
 * Vocabulary: the sequencer makes the bus's signals gapless and ordered per process, the index routes
 * them to connections by strategy and pair, a connection tracks what it sent (no duplicates) and its
 * bounded buffer. See distributor.ts for the lifecycle and protocol.ts for the wire format.
 */
import type { AppContext, Component } from '../app.js';
import { SignalDistributor } from './distributor.js';
import { DistributionMetrics } from './metrics.js';

export { SignalDistributor, WS_PATH } from './distributor.js';
export { CLOSE } from './protocol.js';
export { REPLAY_LIMIT } from './replay.js';

/** The distributor as an app Component (role `api`): started after the bus, attached to the HTTP server. */
export function distributionComponent(ctx: AppContext): Component & { distributor: SignalDistributor } {
  let distributor: SignalDistributor;
  const metrics = new DistributionMetrics(ctx.metrics.registry, () => distributor?.connected ?? 0);
  distributor = new SignalDistributor({
    prisma: ctx.db.prisma, reader: ctx.reader, bus: ctx.bus, tokens: ctx.tokens, log: ctx.log, metrics,
    options: ctx.config.ws,
  });
  return {
    name: 'ws',
    distributor,
    start: () => distributor.start(),
    stop: () => distributor.stop(),
    attach: (server) => distributor.attach(server),
    health: async () => ({ ok: true, clients: distributor.connected, lastSeq: distributor.sequencer.lastSeq }),
  };
}
