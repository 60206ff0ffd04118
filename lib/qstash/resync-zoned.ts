import type { Client } from "@upstash/qstash";
import type { Registry } from "../jobs/registry";
import { desiredSchedules } from "./desired";
import { refusals } from "./guard";
import { changesOf, planSchedules } from "./plan";
import { applyPlan, type SyncEnv } from "./sync";
import { describeQStashError } from "./client";

export interface ZonedResync {
  status: "none" | "in-sync" | "resynced" | "failed";
  /** Schedule ids created, updated or deleted. */
  changed: string[];
  errors: string[];
}

/**
 * keep-alive's daily step: the zoned entries' UTC crons as they must be now (they change within
 * 48 h of an offset change), applied where QStash holds others. Only the zoned entries' schedules:
 * the rest is for `pnpm qstash:schedule`, run by a person who reads the plan.
 */
export async function resyncZoned(client: Client, env: SyncEnv, registry: Registry, now: Date): Promise<ZonedResync> {
  const desired = desiredSchedules(registry, env, now).filter((d) => d.zoned);
  if (!desired.length) return { status: "none", changed: [], errors: [] };
  const refused = refusals(env, desired);
  if (refused.length) return { status: "failed", changed: [], errors: refused };
  let listed;
  try {
    listed = await client.schedules.list();
  } catch (err) {
    return { status: "failed", changed: [], errors: [`could not list schedules: ${describeQStashError(err, env.qstash.url)}`] };
  }
  const jobs = new Set(desired.map((d) => `${env.appUrl}/api/cron/${d.job}`));
  const plan = planSchedules(desired, listed, { prefix: env.schedulePrefix, appUrl: env.appUrl });
  // Every other schedule of ours plans as a delete here, since `desired` holds the zoned ones only.
  const items = plan.items.filter((i) => i.action !== "delete" || jobs.has(i.current.destination));
  if (!changesOf({ ...plan, items }).length) return { status: "in-sync", changed: [], errors: [] };
  const applied = await applyPlan(client, env, { ...plan, items });
  const errors = applied.filter((a) => !a.ok).map((a) => `${a.item.action} ${a.item.scheduleId}: ${a.error}`);
  return { status: errors.length ? "failed" : "resynced", changed: applied.filter((a) => a.ok).map((a) => a.item.scheduleId), errors };
}
