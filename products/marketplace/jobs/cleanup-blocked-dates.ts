import { defineJob } from "@/lib/jobs/define";

/** Blocked dates before today, in each expert's own zone, are deleted (today's block still holds). */
export default defineJob({
  name: "cleanup-blocked-dates",
  description: "Delete blocked dates that are in the past in the expert's time zone",
  timeoutMs: 60_000,
  async handler({ db, now, signal }) {
    let deleted = 0;
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<{ deleted: number; more: boolean }>("blocked_dates_cleanup", { p_now: now, p_limit: 5000 });
      deleted += page.deleted;
      if (!page.more) return { deleted };
    }
  },
});
