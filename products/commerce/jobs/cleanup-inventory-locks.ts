import { drain } from "../lib/drain";
import { defineJob } from "@/lib/jobs/define";

/** Stock held for checkouts that were never paid goes back on sale once the hold expires. */
export default defineJob({
  name: "cleanup-inventory-locks",
  description: "Delete inventory locks past their expiry, in batches",
  timeoutMs: 60_000,
  async handler(ctx) {
    return { released: await drain(ctx, "commerce_inventory_locks_release", { p_now: ctx.now }, "released") };
  },
});
