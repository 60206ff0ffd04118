import { drain } from "../lib/drain";
import { defineJob } from "@/lib/jobs/define";

/** Read notifications are kept this long; unread ones stay until they are read. */
export const NOTIFICATION_RETENTION_DAYS = 30;

export default defineJob({
  name: "cleanup-notifications",
  description: `Delete read in-app notifications older than ${NOTIFICATION_RETENTION_DAYS} days, in batches`,
  timeoutMs: 120_000,
  async handler(ctx) {
    const before = new Date(ctx.now.getTime() - NOTIFICATION_RETENTION_DAYS * 86_400_000);
    return { deleted: await drain(ctx, "commerce_notifications_prune", { p_before: before }, "deleted") };
  },
});
