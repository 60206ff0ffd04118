import type { Client } from "@upstash/qstash";
import type { RunDeps } from "../jobs/run";

export const COMPONENTS = ["database", "redis", "qstash", "schedules", "novu", "resend"] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export type ComponentStatus = "ok" | "degraded" | "down" | "not_configured";
export type OverallStatus = "ok" | "degraded" | "down";

export interface ComponentResult {
  status: ComponentStatus;
  /** Time the check took; null when nothing was called (not configured). */
  latencyMs: number | null;
  message: string;
  /** Machine-readable findings, where a check has more to say than its message (schedules). */
  details?: Record<string, unknown>;
}

/** What a check reports; `runCheck` adds the latency and turns throws and timeouts into `down`. */
export type Finding = Omit<ComponentResult, "latencyMs">;

/** A QStash schedule as `GET /v2/schedules` returns it: only the fields diagnostics read. */
export interface LiveSchedule {
  scheduleId: string;
  cron: string;
  destination: string;
  isPaused?: boolean;
}

export interface HealthContext {
  deps: RunDeps;
  fetch: typeof fetch;
  qstash: Pick<Client, "schedules">;
  /** QStash's schedules, fetched once per report and shared by the qstash and schedules checks. */
  liveSchedules(): Promise<LiveSchedule[]>;
  signal: AbortSignal;
}

export type Check = (ctx: HealthContext) => Promise<Finding>;
