/**
 * Which strategy ids a chart page may be drawn for (GET /charts/:strategyId, /api/charts/:strategyId/data):
 * a stored strategy, or one that an `autoCreate` target of the operator's targets file will create on its
 * first captured signal (its chart must draw before the strategy exists). Any other id is
 * 404 STRATEGY_NOT_FOUND, like every strategy path. Found ids are remembered (strategies are not deleted);
 * the file's autoCreate ids are re-read at most every `reloadMs`.
 */
import type { PrismaClient } from '@prisma/client';
import { readTargetsFile } from './targets.js';

/** Remembered found ids; past this many the memory starts over. */
const MAX_REMEMBERED = 10_000;

export class ChartStrategies {
  private readonly found = new Set<string>();
  private autoCreate: { ids: Set<string>; at: number } = { ids: new Set(), at: -Infinity };

  constructor(private readonly deps: { prisma: PrismaClient; targetsFile?: string; extractorNames: readonly string[]; reloadMs: number }) {}

  async known(id: string): Promise<boolean> {
    if (this.found.has(id)) return true;
    if (await this.deps.prisma.strategy.findUnique({ where: { id }, select: { id: true } })) {
      if (this.found.size >= MAX_REMEMBERED) this.found.clear();
      this.found.add(id);
      return true;
    }
    return (await this.autoCreateIds()).has(id);
  }

  private async autoCreateIds(): Promise<Set<string>> {
    if (!this.deps.targetsFile || Date.now() - this.autoCreate.at < this.deps.reloadMs) return this.autoCreate.ids;
    const read = await readTargetsFile(this.deps.targetsFile, this.deps.extractorNames);
    this.autoCreate = { ids: new Set(read.targets.filter((t) => t.autoCreate).map((t) => t.strategyId)), at: Date.now() };
    return this.autoCreate.ids;
  }
}
