import type { Clock } from "./clock";
import type { Engine } from "./engine";
import type { Scheduler } from "./scheduler";
import type { Store } from "./store";

/** What every route handler works with. */
export interface Ctx {
  store: Store;
  engine: Engine;
  scheduler: Scheduler;
  clock: Clock;
  keys: { current: string; next: string };
  /** The plan's limits this server enforces (none by default). */
  limits: { maxDelayMs?: number };
}

/** A request as the routes see it; `params` are the route pattern's captures. */
export interface Req {
  method: string;
  /** Raw path, percent-escapes and `//` kept (destinations are appended raw). */
  path: string;
  /** Raw query string without `qstash_token`, for putting back on a destination. */
  rawQuery: string;
  query: URLSearchParams;
  params: string[];
  headers: Record<string, string[]>;
  body(): Promise<Buffer>;
  callerIp: string;
}

/** `body: undefined` answers with no body (what the SDK expects of DELETE and pause/resume). */
export interface Reply {
  status: number;
  body?: unknown;
}

export type Handler = (ctx: Ctx, req: Req) => Reply | Promise<Reply>;
