import { drain } from "../lib/drain";
import { defineJob } from "@/lib/jobs/define";

/** A reset token that expired or was used can never be redeemed: it goes. */
export default defineJob({
  name: "cleanup-password-resets",
  description: "Delete expired or used password-reset tokens, in batches",
  timeoutMs: 60_000,
  async handler(ctx) {
    return { deleted: await drain(ctx, "commerce_password_resets_prune", { p_now: ctx.now }, "deleted") };
  },
});
