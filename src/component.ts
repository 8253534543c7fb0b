/**
 * The contract between the composition root (app.ts) and the modules: what a long-lived part implements
 * and what the app hands it. In a file of its own so module index files never import app.ts; it names each
 * type in the file that defines it (not the module's index, which imports this file), so it closes no cycle.
 */
import type http from 'node:http';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Bus } from './bus/index.js';
import type { Config } from './config/index.js';
import type { Database } from './db/index.js';
import type { VenueBudget } from './exchange/budget.js';
import type { TokenService } from './http/auth.js';
import type { HealthCheck } from './http/health.js';
import type { Keyring } from './lib/crypto.js';
import type { Logger } from './lib/logger.js';
import type { Metrics } from './metrics/index.js';
import type { ReferencePrices } from './monitor/reference-prices.js';
import type { SignalCoordinator } from './signals/coordinator.js';
import type { SignalJsonStore } from './signals/json-store.js';
import type { SignalReader } from './signals/repository.js';

/** A long-lived part of the app: started after the database and bus, stopped before them. */
export interface Component {
  name: string;
  start(): Promise<void>;
  /** Idempotent. */
  stop(): Promise<void>;
  health?: HealthCheck;
  routers?: Router[];
  /** Routers mounted before the signal routes (observers of requests those answer). */
  earlyRouters?: Router[];
  /** Called once the HTTP server exists (e.g. to attach a WebSocket server). */
  attach?(server: http.Server): void;
}

/** Everything a module may need from the app. */
export interface AppContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Database;
  bus: Bus;
  redis?: Redis;
  keyring: Keyring;
  tokens: TokenService;
  coordinator: SignalCoordinator;
  reader: SignalReader;
  store?: SignalJsonStore;
  /** The per-venue exchange request budget every ccxt instance of this app spends (shared through Redis). */
  exchangeBudget: VenueBudget;
  /** The reference market's prices and market list for the signal checks (fed by the monitor module). */
  reference: ReferencePrices;
}
