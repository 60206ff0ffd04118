import type { Client } from "@upstash/qstash";
import type { Mode } from "../env";
import type { RunDeps } from "../jobs/run";
import { runCheck, type Component } from "./component";
import { database } from "./database";
import { novu } from "./novu";
import { diagnosticsQStashClient, listLiveSchedules, qstash } from "./qstash";
import { redis } from "./redis";
import { resend } from "./resend";
import { schedules } from "./schedules";
import { COMPONENTS, type ComponentName, type ComponentResult, type LiveSchedule, type OverallStatus } from "./types";

export { COMPONENTS, type ComponentName, type ComponentResult, type ComponentStatus, type OverallStatus } from "./types";
export { compareSchedules, type ScheduleComparison } from "./schedules";

const BY_NAME: Record<ComponentName, Component> = { database, redis, qstash, schedules, novu, resend };

/** Without the ledger or the delivery service no job runs at all; anything else is a partial outage. */
const CRITICAL: ReadonlySet<ComponentName> = new Set(["database", "qstash"]);

export const DEFAULT_CHECK_TIMEOUT_MS = 3000;

export interface HealthOptions {
  fetch?: typeof fetch;
  qstash?: Pick<Client, "schedules">;
  timeoutMs?: number;
  /** Check only these; all of them by default. */
  only?: readonly ComponentName[];
}

export interface HealthReport {
  status: OverallStatus;
  mode: Mode;
  appUrl: string;
  checkedAt: string;
  components: Partial<Record<ComponentName, ComponentResult>>;
}

export const isComponent = (name: string): name is ComponentName => (COMPONENTS as readonly string[]).includes(name);

/** Every check at once, each under its own deadline, so the slowest one bounds the answer. */
export async function checkHealth(deps: RunDeps, opts: HealthOptions = {}): Promise<HealthReport> {
  const checkedAt = (deps.clock ?? (() => new Date()))().toISOString();
  const client = opts.qstash ?? diagnosticsQStashClient(deps.env);
  let live: Promise<LiveSchedule[]> | undefined;
  const ctx = {
    deps,
    // Looked up per call, not captured at import, so test interceptors installed later still apply.
    fetch: opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
    qstash: client,
    liveSchedules: () => (live ??= listLiveSchedules(client, deps.env.qstash.url)),
  };
  const names = opts.only ?? COMPONENTS;
  const results = await Promise.all(names.map((n) => runCheck(BY_NAME[n], ctx, opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS)));
  const components: HealthReport["components"] = {};
  names.forEach((n, i) => (components[n] = results[i]));
  return { status: overallStatus(components), mode: deps.env.mode, appUrl: deps.env.appUrl, checkedAt, components };
}

export function overallStatus(components: HealthReport["components"]): OverallStatus {
  const entries = Object.entries(components) as [ComponentName, ComponentResult][];
  if (entries.some(([n, r]) => r.status === "down" && CRITICAL.has(n))) return "down";
  if (entries.some(([, r]) => r.status === "down" || r.status === "degraded")) return "degraded";
  return "ok";
}
