import { drain } from "../lib/drain";
import { defineJob } from "@/lib/jobs/define";

/** An account not verified within this long is abandoned. */
export const UNVERIFIED_USER_DAYS = 30;

/**
 * Unverified accounts older than 30 days, with their addresses, notifications, reset tokens and
 * inventory locks (cascading foreign keys). Accounts with an order are kept. Batches of 1,000: a
 * user's delete touches every dependent table.
 */
export default defineJob({
  name: "cleanup-unverified-users",
  description: `Delete accounts left unverified for ${UNVERIFIED_USER_DAYS} days, with their dependent rows, in batches`,
  timeoutMs: 240_000,
  async handler(ctx) {
    const before = new Date(ctx.now.getTime() - UNVERIFIED_USER_DAYS * 86_400_000);
    return { deleted: await drain(ctx, "commerce_unverified_users_prune", { p_before: before }, "deleted", 1000) };
  },
});
