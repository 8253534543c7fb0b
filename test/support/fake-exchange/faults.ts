/**
 * Runtime fault injection. A fault matches requests by path/method/apiKey,
 * optionally only for the next `times` matches, and does one of:
 * - latency: delay, then handle normally (several latencies add up);
 * - respond: answer with a status and body without handling (5xx, 418, …);
 * - rateLimit: 429 {"code":-1003,…} with Retry-After;
 * - placeThenTimeout: handle the request (order placed, balances moved) and
 *   then never answer ('hang', until the client gives up) or reset the socket ('destroy');
 * - processThenRespond: handle the request, then answer with the given status/body
 *   (e.g. 503 "execution status unknown" after the order was placed).
 */

/** What a matching fault does. */
export type FaultAction =
  | { kind: 'latency'; ms: number }
  | { kind: 'respond'; status: number; body?: string | object; headers?: Record<string, string> }
  | { kind: 'rateLimit'; status?: 429 | 418; retryAfterSec?: number }
  | { kind: 'placeThenTimeout'; how?: 'hang' | 'destroy' }
  | { kind: 'processThenRespond'; status: number; body?: string | object };

/** Which requests a fault applies to; all fields optional (undefined = any). */
export interface FaultMatch {
  /** Exact path such as '/api/v3/order', or a RegExp. */
  path?: string | RegExp;
  method?: string;
  apiKey?: string;
  /** Only the next N matching requests; unlimited when omitted. */
  times?: number;
}

interface Fault {
  id: number;
  action: FaultAction;
  match: FaultMatch;
  remaining: number;
}

/** The request attributes faults are matched against. */
export interface FaultTarget {
  method: string;
  path: string;
  apiKey: string | undefined;
}

/** Faults picked for one request: summed latency and at most one terminal action. */
export interface FaultPlan {
  latencyMs: number;
  terminal: Exclude<FaultAction, { kind: 'latency' }> | undefined;
}

function matches(m: FaultMatch, t: FaultTarget): boolean {
  const pathOk = m.path === undefined || (typeof m.path === 'string' ? m.path === t.path : m.path.test(t.path));
  const methodOk = m.method === undefined || m.method.toUpperCase() === t.method;
  return pathOk && methodOk && (m.apiKey === undefined || m.apiKey === t.apiKey);
}

/** Holds the active faults and consumes them as requests match. */
export class FaultInjector {
  private faults: Fault[] = [];
  private nextId = 1;

  /** Adds a fault; returns its id for remove(). */
  add(action: FaultAction, match: FaultMatch = {}): number {
    const id = this.nextId++;
    this.faults.push({ id, action, match, remaining: match.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  /** Removes one fault. */
  remove(id: number): void {
    this.faults = this.faults.filter((f) => f.id !== id);
  }

  /** Removes all faults. */
  clear(): void {
    this.faults = [];
  }

  /** Picks (and consumes) the faults for a request. */
  plan(target: FaultTarget): FaultPlan {
    const plan: FaultPlan = { latencyMs: 0, terminal: undefined };
    for (const fault of this.faults.filter((f) => matches(f.match, target))) {
      if (fault.action.kind === 'latency') {
        plan.latencyMs += fault.action.ms;
      } else if (plan.terminal === undefined) {
        plan.terminal = fault.action;
      } else {
        continue;
      }
      fault.remaining -= 1;
    }
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return plan;
  }
}
