import { defineJob } from "@/lib/jobs/define";

type Page = { released: number; more: boolean };

/**
 * Unpaid slot holds past their expiry go back on the expert's calendar, and so do bookings left
 * awaiting payment past their deadline: they are marked expired and the hold they kept is released.
 */
export default defineJob({
  name: "cleanup-expired-reservations",
  description: "Release unpaid slot holds past their expiry; expire bookings unpaid past their payment deadline",
  timeoutMs: 60_000,
  async handler({ db, now, signal }) {
    let released = 0;
    let expired = 0;
    // Pages of 5,000 keep each statement short; a backlog drains within one run.
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<Page>("release_expired_reservations", { p_now: now, p_limit: 5000 });
      released += page.released;
      if (!page.more) break;
    }
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<Page & { expired: number }>("expire_unpaid_bookings", { p_now: now, p_limit: 5000 });
      expired += page.expired;
      released += page.released;
      if (!page.more) return { released, expired };
    }
  },
});
