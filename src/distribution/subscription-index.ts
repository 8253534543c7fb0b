/**
 * SubscriptionIndex: this process's in-memory routing table, strategyId → (connection → pair filter).
 * A pair filter is `null` for "all pairs", else the set of subscribed pairs. Built from PostgreSQL
 * when a connection opens and rebuilt for a user whenever `subscription.changed` names them.
 * Each user has a version bumped on every change; a load that raced a change is repeated, so the
 * index never keeps a snapshot older than the latest change it was told about.
 * `subscription.changed` travels on an at-most-once bus (a Redis outage drops it), so `resync()` also
 * reloads every connected user's routes in one query, periodically and when the bus reconnects.
 * Which subscriptions count, and how they fold into pair filters, is the subscriptions module's matching
 * rule (FOLLOWING, foldRoutes): the same rule the executor's intent writer applies in SQL.
 */
import { foldRoutes, type PairFilter, type SubscriptionFollows, type UserRoutes } from '../subscriptions/index.js';
import type { Connection } from './connection.js';

export type { PairFilter, UserRoutes } from '../subscriptions/index.js';

export class SubscriptionIndex {
  private readonly byStrategy = new Map<string, Map<Connection, PairFilter>>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly versions = new Map<string, number>();
  private readonly routes = new Map<string, UserRoutes>();
  /** Users with a connection being added (their changes must be versioned too). */
  private readonly loading = new Map<string, number>();

  constructor(private readonly subscriptions: SubscriptionFollows) {}

  /** Connections that may receive signals of `strategyId`, with their pair filters. */
  targets(strategyId: string): ReadonlyMap<Connection, PairFilter> | undefined {
    return this.byStrategy.get(strategyId);
  }

  /** The user's current routes (as last loaded), for replay queries. */
  routesOf(userId: string): UserRoutes {
    return this.routes.get(userId) ?? new Map();
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  connections(): IterableIterator<Connection> {
    const all = [...this.byUser.values()].flatMap((s) => [...s]);
    return all.values();
  }

  /**
   * Loads the user's routes and registers `conn` under them; `registered` runs synchronously right
   * after, before any other signal can be routed (the distributor sends WELCOME there).
   */
  async add(conn: Connection, registered: () => void): Promise<void> {
    const { userId } = conn;
    this.loading.set(userId, (this.loading.get(userId) ?? 0) + 1);
    let routes: UserRoutes;
    try {
      routes = await this.loadStable(userId);
    } finally {
      const n = this.loading.get(userId)! - 1;
      if (n) this.loading.set(userId, n); else this.loading.delete(userId);
    }
    if (conn.closed) return;
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    set.add(conn);
    this.routes.set(conn.userId, routes);
    this.place(conn, routes);
    registered();
  }

  remove(conn: Connection): void {
    for (const strategyId of conn.strategies) this.unplace(conn, strategyId);
    const set = this.byUser.get(conn.userId);
    if (!set) return;
    set.delete(conn);
    if (!set.size) {
      this.byUser.delete(conn.userId);
      this.routes.delete(conn.userId);
      if (!this.loading.has(conn.userId)) this.versions.delete(conn.userId);
    }
  }

  /** Called for every `subscription.changed`: reloads the user's routes if they are connected here. */
  async changed(userId: string): Promise<void> {
    if (!this.byUser.has(userId) && !this.loading.has(userId)) return;
    this.versions.set(userId, (this.versions.get(userId) ?? 0) + 1);
    if (!this.byUser.has(userId)) return;
    const routes = await this.loadStable(userId);
    const conns = this.byUser.get(userId);
    if (!conns) return;
    this.routes.set(userId, routes);
    for (const conn of conns) this.place(conn, routes);
  }

  /**
   * Reloads the routes of every user connected here (one query per 1,000 users) and applies those
   * that differ from what the index holds. A user whose change was announced meanwhile is left to that
   * change's own reload. Returns the number of users whose routes were corrected.
   */
  async resync(): Promise<number> {
    const users = [...this.byUser.keys()];
    let corrected = 0;
    for (let i = 0; i < users.length; i += 1000) {
      const batch = users.slice(i, i + 1000);
      const versions = batch.map((u) => this.versions.get(u) ?? 0);
      const subs = await this.subscriptions.followedBy(batch);
      const byUser = new Map<string, typeof subs>();
      for (const s of subs) {
        let list = byUser.get(s.userId);
        if (!list) byUser.set(s.userId, (list = []));
        list.push(s);
      }
      batch.forEach((userId, k) => {
        const conns = this.byUser.get(userId);
        if (!conns || (this.versions.get(userId) ?? 0) !== versions[k]) return;
        const routes = foldRoutes(byUser.get(userId) ?? []);
        if (sameRoutes(this.routes.get(userId), routes)) return;
        corrected++;
        this.routes.set(userId, routes);
        for (const conn of conns) this.place(conn, routes);
      });
    }
    return corrected;
  }

  private async loadStable(userId: string): Promise<UserRoutes> {
    for (;;) {
      const version = this.versions.get(userId) ?? 0;
      const routes = await this.load(userId);
      if ((this.versions.get(userId) ?? 0) === version) return routes;
    }
  }

  private async load(userId: string): Promise<UserRoutes> {
    return foldRoutes(await this.subscriptions.followedBy([userId]));
  }

  private place(conn: Connection, routes: UserRoutes): void {
    for (const strategyId of [...conn.strategies]) if (!routes.has(strategyId)) this.unplace(conn, strategyId);
    for (const [strategyId, filter] of routes) {
      let m = this.byStrategy.get(strategyId);
      if (!m) this.byStrategy.set(strategyId, (m = new Map()));
      m.set(conn, filter);
      conn.strategies.add(strategyId);
    }
  }

  private unplace(conn: Connection, strategyId: string): void {
    const m = this.byStrategy.get(strategyId);
    m?.delete(conn);
    if (m && !m.size) this.byStrategy.delete(strategyId);
    conn.strategies.delete(strategyId);
  }
}

function sameRoutes(a: UserRoutes | undefined, b: UserRoutes): boolean {
  if (!a || a.size !== b.size) return false;
  for (const [strategyId, fb] of b) {
    if (!a.has(strategyId)) return false;
    const fa = a.get(strategyId)!;
    if (fa === null || fb === null) { if (fa !== fb) return false; continue; }
    if (fa.size !== fb.size) return false;
    for (const pair of fb) if (!fa.has(pair)) return false;
  }
  return true;
}
