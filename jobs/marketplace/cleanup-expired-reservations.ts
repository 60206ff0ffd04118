import { defineJob } from "@/lib/jobs/define";

/** Unpaid slot holds past their expiry go back on the expert's calendar. */
export default defineJob({
  name: "cleanup-expired-reservations",
  description: "Release unpaid slot holds past their expiry",
  timeoutMs: 60_000,
  async handler({ db, now, signal }) {
    let released = 0;
    // Pages of 5,000 keep each statement short; a backlog drains within one run.
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<{ released: number; more: boolean }>("release_expired_reservations", { p_now: now, p_limit: 5000 });
      released += page.released;
      if (!page.more) return { released };
    }
  },
});
