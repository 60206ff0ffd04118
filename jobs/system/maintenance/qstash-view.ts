import type { JobContext } from "@/lib/jobs/define";
import { appliesIn, type Schedule } from "@/lib/jobs/schedules";
import { describeQStashError, operatorClient } from "@/lib/qstash/client";
import { scheduleIdOf } from "@/lib/qstash/expected";

export interface ViewedSchedule {
  schedule: Schedule;
  /** Slots before this are not expected: QStash's createdAt of the schedule. */
  since?: Date;
  /** ok; missing or paused in QStash; unknown when QStash could not be asked. */
  state: "ok" | "missing" | "paused" | "unknown";
}

/**
 * Our QStash-fired schedules, with what QStash says of each: missing, paused, or since when it
 * exists. `problems` gets one line per schedule that is not in order (not a list of its slots),
 * and one when QStash could not be asked (then every slot of a window is expected).
 */
export async function qstashView(ctx: Pick<JobContext<unknown>, "env">, all: readonly Schedule[], problems: string[]): Promise<{ viewed: ViewedSchedule[]; status: unknown }> {
  const { env } = ctx;
  const ours = all.filter((s) => s.via === "qstash" && appliesIn(s, env.mode));
  if (!ours.length) return { viewed: [], status: "no schedules to check" };
  try {
    const listed = new Map((await operatorClient(env).schedules.list()).map((s) => [s.scheduleId, s]));
    const found: string[] = [];
    const viewed = ours.map((schedule): ViewedSchedule => {
      const id = scheduleIdOf(env.schedulePrefix, schedule.job);
      const s = listed.get(id);
      if (!s) found.push(`schedule ${id} is missing in QStash: run pnpm qstash:schedule`);
      else if (s.isPaused) found.push(`schedule ${id} is paused in QStash`);
      return { schedule, state: !s ? "missing" : s.isPaused ? "paused" : "ok", ...(s && { since: new Date(s.createdAt) }) };
    });
    problems.push(...found.map((p) => `QStash: ${p}`));
    return { viewed, status: found.length ? { status: "degraded", problems: found } : "ok" };
  } catch (err) {
    const why = describeQStashError(err, env.qstash.url);
    problems.push(`QStash unreachable, so every slot of the window is expected: ${why}`);
    return { viewed: ours.map((schedule) => ({ schedule, state: "unknown" })), status: `unreachable: ${why}` };
  }
}
