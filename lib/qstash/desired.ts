import type { CreateScheduleRequest } from "@upstash/qstash";
import type { Env } from "../env";
import type { Registry } from "../jobs/registry";
import { expectedSchedules, type ExpectedSchedule } from "./expected";

/**
 * QStash lists a schedule without its per-attempt timeout, so the timeout we set also travels as a
 * forwarded header, which the listing does return: that is how a changed timeout shows in the plan.
 */
export const TIMEOUT_HEADER = "Cronlayer-Timeout";

/** Everything `qstash:schedule` sets on one schedule (a create is a full replace). */
export interface DesiredSchedule extends ExpectedSchedule {
  method: "POST";
  /** Exhausted deliveries become dead letters (app/api/jobs/failed). */
  failureCallback: string;
}

export function desiredSchedules(registry: Registry, env: Pick<Env, "appUrl" | "schedulePrefix" | "mode">, now?: Date): DesiredSchedule[] {
  return expectedSchedules(registry, env, now).map((e) => ({ ...e, method: "POST", failureCallback: `${env.appUrl}/api/jobs/failed` }));
}

export type CreateRequest = CreateScheduleRequest;

export function createRequestOf(d: DesiredSchedule): CreateRequest {
  return {
    scheduleId: d.scheduleId,
    destination: d.destination,
    cron: d.cron,
    method: d.method,
    retries: d.retries,
    timeout: d.timeoutSeconds,
    body: d.body,
    headers: { "Content-Type": "application/json", [TIMEOUT_HEADER]: String(d.timeoutSeconds) },
    failureCallback: d.failureCallback,
  };
}
