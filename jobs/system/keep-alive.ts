import { defineJob } from "@/lib/jobs/define";

/**
 * The one Vercel-native cron: an independent heartbeat. It proves the database and Redis answer
 * and prunes signatures that can no longer be replayed.
 */
export default defineJob({
  name: "keep-alive",
  description: "Daily heartbeat: database and Redis health, ledger upkeep",
  timeoutMs: 120_000,
  async handler({ db, redis }) {
    const started = Date.now();
    await db.ping();
    const databaseMs = Date.now() - started;
    let redisStatus = "not_configured";
    if (redis) {
      const pong = await redis.ping();
      redisStatus = pong === "PONG" ? "ok" : `unexpected reply ${String(pong)}`;
    }
    const pruned = await db.rpc<{ deleted: number }>("used_signatures_prune");
    return { database: "ok", databaseMs, redis: redisStatus, signaturesPruned: pruned.deleted };
  },
});
