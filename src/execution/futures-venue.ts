/**
 * What the futures runner needs of a venue account: the futures operations of src/exchange (FuturesAccount
 * satisfies it as it is) or, in paper mode, PaperFutures: every market order fills at once at the reference
 * price (the venue's mark price, else the signal's), nothing rests, no minimums, a fixed simulated free margin.
 * Paper stops and take-profits have no orders: the Position keeps their levels (stopLoss / takeProfit).
 */
import type { FuturesMarginMode, FuturesOrder, FuturesRules, PositionSide, ProtectiveOrder, ClosedFills } from '../exchange/index.js';

export interface FuturesVenue {
  readonly market: {
    symbolOf(pair: string): string | null;
    rules(symbol: string): FuturesRules;
    amountToPrecision(symbol: string, amount: number): number;
    priceToPrecision(symbol: string, price: number): number;
    freeMargin(settle: string): Promise<number>;
    maxLeverage(symbol: string, notional: number): Promise<number | null>;
  };
  ensureLeverageAndMargin(symbol: string, leverage: number, marginMode: FuturesMarginMode): Promise<{ requests: number }>;
  openPosition(symbol: string, side: PositionSide, amount: number, clientOrderId: string): Promise<FuturesOrder>;
  closePosition(symbol: string, side: PositionSide, amount: number, clientOrderId: string): Promise<FuturesOrder | null>;
  placeProtective(p: ProtectiveOrder): Promise<FuturesOrder>;
  findOrder(symbol: string, clientOrderId: string): Promise<FuturesOrder | null>;
  findProtective(symbol: string, clientOrderId: string): Promise<FuturesOrder | null>;
  cancelProtective(symbol: string, clientOrderId: string): Promise<FuturesOrder | null>;
  realisedPnl(symbol: string, order: FuturesOrder, since: number): Promise<number | null>;
  /** The venue's record of fills that reduced a position since `since` (absent in paper mode). */
  closes?(symbol: string, side: PositionSide, since: number): Promise<ClosedFills>;
}

const paperOrder = (clientOrderId: string, amount: number, filled: number, average: number | null, extra: Record<string, unknown>): FuturesOrder => ({
  id: `paper-${clientOrderId}`, clientOrderId, status: filled > 0 ? 'closed' : 'open', filled, amount, average, triggerPrice: null,
  reduceOnly: null, fillOrderId: `paper-${clientOrderId}`, fee: null, raw: { paper: true, clientOrderId, amount, price: average, ...extra },
});

export class PaperFutures implements FuturesVenue {
  constructor(private readonly fillPrice: number, private readonly balance: number) {}

  readonly market = {
    symbolOf: (pair: string) => `${pair}:${pair.split('/')[1] ?? 'USDT'}`,
    rules: (symbol: string): FuturesRules => ({ symbol, settle: symbol.split(':')[1] ?? 'USDT', minAmount: 0, minCost: 0 }),
    amountToPrecision: (_symbol: string, amount: number) => Math.floor(amount * 1e8) / 1e8,
    priceToPrecision: (_symbol: string, price: number) => price,
    freeMargin: async () => this.balance,
    maxLeverage: async () => null,
  };

  async ensureLeverageAndMargin() { return { requests: 0 }; }
  async openPosition(_symbol: string, side: PositionSide, amount: number, clientOrderId: string) { return paperOrder(clientOrderId, amount, amount, this.fillPrice, { side }); }
  async closePosition(_symbol: string, side: PositionSide, amount: number, clientOrderId: string) { return paperOrder(clientOrderId, amount, amount, this.fillPrice, { side, reduceOnly: true }); }
  async placeProtective(p: ProtectiveOrder) { return paperOrder(p.clientOrderId, p.amount, 0, null, { kind: p.kind, triggerPrice: p.triggerPrice }); }
  async findOrder() { return null; }
  async findProtective() { return null; }
  async cancelProtective() { return null; }
  async realisedPnl() { return null; }
}

/** Realised PnL of closing `qty` of a `side` position bought/sold at `avgIn` at `exit` (before fees). */
export function futuresPnl(side: PositionSide, qty: number, avgIn: number, exit: number): number {
  return (exit - avgIn) * qty * (side === 'long' ? 1 : -1);
}
