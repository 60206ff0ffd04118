import { defineJob } from "@/lib/jobs/define";

/**
 * Local only, every minute: proves that `pnpm dev` fires schedules through the local QStash, signed
 * and recorded, without waiting for a business job's slot.
 */
export default defineJob({
  name: "heartbeat",
  description: "Local heartbeat: a ledger row every minute",
  timeoutMs: 10_000,
  async handler({ db, run }) {
    await db.ping();
    return { ok: true, slot: run.slotAt?.toISOString() ?? null };
  },
});
