/**
 * The capturer's side of strategy bots: the enabled TradingBot rows as capture targets, and the outcome
 * of each visit written back on the bot (counters, latest capture, failure and screenshot file name).
 */
import type { PrismaClient } from '@prisma/client';
import type { BotSource } from './capturer.js';
import { botTargets } from './bot-schema.js';
import type { CaptureTarget } from './targets.js';

/** Longest failure message kept on a bot. */
const MAX_FAILURE = 300;

export class BotStore implements BotSource {
  constructor(private readonly deps: { prisma: PrismaClient; intervalSeconds: number }) {}

  /** Every enabled bot's targets (one per pair). */
  async targets(): Promise<CaptureTarget[]> {
    const rows = await this.deps.prisma.tradingBot.findMany({
      where: { enabled: true },
      select: { id: true, strategyId: true, builtin: true, params: true, pairs: true, timeframe: true, exchange: true, enabled: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.flatMap((b) => botTargets(b, this.deps.intervalSeconds));
  }

  async captured(botId: string, screenshot: string | undefined): Promise<void> {
    await this.deps.prisma.tradingBot.updateMany({
      where: { id: botId },
      data: { captures: { increment: 1 }, lastCaptureAt: new Date(), ...(screenshot ? { lastScreenshot: screenshot } : {}) },
    });
  }

  async failed(botId: string, reason: string, message: string): Promise<void> {
    await this.deps.prisma.tradingBot.updateMany({
      where: { id: botId },
      // Shown to the author: addresses (our chart page origin, the hosts behind it) are not theirs to see.
      data: { failures: { increment: 1 }, lastFailureAt: new Date(), lastFailure: `${reason}: ${message.replace(/\b(?:https?|wss?):\/\/\S+/g, '<url>')}`.slice(0, MAX_FAILURE) },
    });
  }

  async signalled(botId: string, n: number): Promise<void> {
    await this.deps.prisma.tradingBot.updateMany({ where: { id: botId }, data: { signals: { increment: n } } });
  }
}
