/**
 * Paper venue: the TradingClient the executor uses when TRADING_MODE=paper. Every order fills at once
 * at `fillPrice`: the venue's public market price that a live order would see (the runner looks it up;
 * only where none can be had, the signal's price, and the row says so). Balances are a fixed simulated
 * quote balance; no order leaves the process. Amounts are rounded down to 8 decimals; no minimums.
 */
import type { ExchangeOrder, MarketRules, OrderRequest, ProtectiveRequest, TradingClient } from '../exchange/index.js';

export class PaperClient implements TradingClient {
  readonly minIntervalMs = 0;
  constructor(private readonly fillPrice: number, private readonly quoteBalance: number) {}

  rules(symbol: string): MarketRules {
    const [base = symbol, quote = 'USDT'] = symbol.split('/');
    return { symbol, base, quote, minAmount: 0, minCost: 0 };
  }

  amountToPrecision(_symbol: string, amount: number): number { return Math.floor(amount * 1e8) / 1e8; }
  priceToPrecision(_symbol: string, price: number): number { return price; }
  /** Sized in base at the fill price, which is exact here. */
  quoteSizedBuy(): boolean { return false; }

  async createOrder(req: OrderRequest): Promise<ExchangeOrder> {
    const protective = req.stopLossPrice !== undefined || req.takeProfitPrice !== undefined;
    const filled = protective ? 0 : req.amount;
    const raw = { paper: true, clientOrderId: req.clientOrderId, side: req.side, amount: req.amount, price: this.fillPrice, status: protective ? 'open' : 'closed', stopLossPrice: req.stopLossPrice, takeProfitPrice: req.takeProfitPrice };
    return { id: `paper-${req.clientOrderId}`, clientOrderId: req.clientOrderId, status: raw.status, filled, amount: req.amount, average: protective ? null : this.fillPrice, fees: [], raw };
  }

  /** A resting protective order (or list): nothing fills in paper mode until the CLOSE. */
  async placeProtective(req: ProtectiveRequest): Promise<ExchangeOrder> {
    const raw = { paper: true, clientOrderId: req.clientOrderId, side: 'sell', amount: req.amount, status: 'open', stopLoss: req.stopLoss, takeProfit: req.takeProfit };
    return { id: `paper-${req.clientOrderId}`, clientOrderId: req.clientOrderId, status: 'open', filled: 0, amount: req.amount, average: null, fees: [], raw };
  }

  async findProtective(): Promise<ExchangeOrder | null> { return null; }
  async cancelProtective(): Promise<ExchangeOrder | null> { return null; }
  async fetchOrder(): Promise<ExchangeOrder | null> { return null; }
  async cancelOrder(): Promise<ExchangeOrder | null> { return null; }
  async freeBalance(): Promise<number> { return this.quoteBalance; }
}
