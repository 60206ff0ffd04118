import type { Client } from "@upstash/qstash";
import type { Env } from "../env";
import { describeQStashError } from "../qstash/client";
import { scheduleIdOf } from "../qstash/expected";

/**
 * A job's schedule as QStash holds it, for its page: paused or active (every schedule of the job:
 * a zoned entry is several), when it last delivered and when it delivers next. QStash does not
 * record when a schedule was paused: a paused schedule shows its last delivery instead.
 */
export type ScheduleState =
  | { state: "active" | "paused" | "partly paused"; ids: string[]; pausedIds: string[]; lastDelivery: Date | undefined; next: Date | undefined }
  | { state: "missing"; ids: [] }
  | { state: "unknown"; error: string };

const latest = (ts: (number | undefined)[]) => {
  const v = ts.filter((t): t is number => typeof t === "number" && t > 0);
  return v.length ? new Date(Math.max(...v)) : undefined;
};

export async function scheduleState(client: Client, env: Pick<Env, "schedulePrefix" | "qstash">, job: string): Promise<ScheduleState> {
  const id = scheduleIdOf(env.schedulePrefix, job);
  const part = new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+$`);
  let listed;
  try {
    listed = (await client.schedules.list()).filter((s) => s.scheduleId === id || part.test(s.scheduleId));
  } catch (err) {
    return { state: "unknown", error: describeQStashError(err, env.qstash.url) };
  }
  if (!listed.length) return { state: "missing", ids: [] };
  const paused = listed.filter((s) => s.isPaused);
  const active = listed.filter((s) => !s.isPaused);
  const next = active.map((s) => s.nextScheduleTime).filter((t): t is number => typeof t === "number" && t > 0);
  return {
    state: paused.length === 0 ? "active" : active.length === 0 ? "paused" : "partly paused",
    ids: listed.map((s) => s.scheduleId),
    pausedIds: paused.map((s) => s.scheduleId),
    lastDelivery: latest(listed.map((s) => s.lastScheduleTime)),
    // A paused schedule has no next run: only the active ones count.
    next: next.length ? new Date(Math.min(...next)) : undefined,
  };
}
