import type { JobContext } from "@/lib/jobs/define";

/** This job's effects that wait for a person: out of attempts, or rejected for good. */
export async function abandonedEffects(ctx: JobContext<unknown>): Promise<number> {
  const summary = await ctx.db.rpc<{ counts: Record<string, number> }>("effects_summary", { p_job: ctx.run.job, p_limit: 0 });
  return summary.counts.abandoned ?? 0;
}
