import type { Client } from "@upstash/qstash";
import type { Env } from "../env";
import { scheduleIdOf } from "./expected";

/**
 * Pauses or resumes every QStash schedule of a job: a zoned entry is several (`<id>`, `<id>-2`...),
 * and pausing only the first would leave the others firing. Returns the ids it changed.
 */
export async function setJobPaused(client: Client, env: Pick<Env, "schedulePrefix">, job: string, paused: boolean): Promise<string[]> {
  const id = scheduleIdOf(env.schedulePrefix, job);
  const part = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+$`);
  const ids = (await client.schedules.list()).map((s) => s.scheduleId).filter((s) => s === id || part.test(s));
  for (const schedule of ids) await (paused ? client.schedules.pause({ schedule }) : client.schedules.resume({ schedule }));
  return ids;
}

/** How to resume a job that was paused, for alerts and refusals. */
export const resumeHint = (env: Pick<Env, "appUrl">, job: string) =>
  `resume it with pnpm qstash:resume ${job}, or Resume on ${env.appUrl}/ops/jobs/${encodeURIComponent(job)}`;
