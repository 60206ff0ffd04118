import { describeQStashError } from "../../qstash/client";
import { setJobPaused } from "../../qstash/pause";
import type { CliContext } from "../context";
import { EXIT } from "../errors";

/** `pnpm qstash:pause <job>` / `pnpm qstash:resume <job>`: every QStash schedule of the job (a zoned one has several). */
export async function pauseCommand(ctx: CliContext, job: string, paused: boolean, opts: { json?: boolean } = {}): Promise<number> {
  const schedule = ctx.registry.scheduleOf(job);
  if (!schedule || schedule.via !== "qstash") {
    const known = ctx.registry.schedules.filter((s) => s.via === "qstash").map((s) => s.job);
    ctx.io.err(`error: ${job} has no QStash schedule in this deployment. Scheduled jobs: ${known.join(", ")}.`);
    return EXIT.usage;
  }
  let ids: string[];
  try {
    ids = await setJobPaused(ctx.qstash(), ctx.env, job, paused);
  } catch (err) {
    ctx.io.err(`error: could not ${paused ? "pause" : "resume"} ${job}: ${describeQStashError(err, ctx.env.qstash.url)}`);
    return EXIT.failed;
  }
  if (opts.json) ctx.io.out(JSON.stringify({ job, paused, schedules: ids }));
  else if (!ids.length) ctx.io.err(`error: QStash holds no schedule of ${job}: pnpm qstash:schedule creates it.`);
  else ctx.io.out(`${paused ? "Paused" : "Resumed"} ${ids.join(", ")}.${paused ? ` pnpm qstash:resume ${job} starts it again.` : " Its next success closes its alert incident, if one is open."}`);
  return ids.length ? EXIT.ok : EXIT.failed;
}
