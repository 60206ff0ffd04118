import type { JobContext } from "@/lib/jobs/define";

/**
 * Calls a batched cleanup function (it deletes at most `p_limit` rows and says whether there may
 * be more) until nothing is left: short statements, and a backlog still drains within one run.
 * Returns the sum of `field` over the batches.
 */
export async function drain(ctx: JobContext<unknown>, fn: string, args: Record<string, unknown>, field: "deleted" | "released", limit = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    ctx.signal.throwIfAborted();
    const page = await ctx.db.rpc<Record<typeof field, number> & { more: boolean }>(fn, { ...args, p_limit: limit });
    total += page[field];
    if (!page.more) return total;
  }
}
