import { campaignMessageDeps } from "../lib/deps";
import { between, nodeLogFields } from "../lib/log";
import { executeOwner, NodeRunIds, type NodeRun } from "../lib/types";
import { defineJob } from "@/lib/jobs/define";
import { cancel } from "@/lib/qstash/messages";

/** How early a delivery may come and still count as due (QStash and app clocks differ a little). */
const EARLY_MS = 60_000;

/**
 * At a node's timeoutAt: a run not yet COMPLETED becomes TIMEOUT (didTimeout), decided against a
 * racing completion on the row lock in one SQL call, and its pending execution is cancelled. A
 * run that completed first, or a timeout that is not due any more (the run moved), changes nothing.
 */
export default defineJob({
  name: "campaign-node-timeout",
  description: "Give a campaign node up for a user at its timeout: TIMEOUT unless it COMPLETED first",
  payload: NodeRunIds,
  timeoutMs: 30_000,
  async handler(ctx) {
    const { payload: ids, db, now, run } = ctx;
    const res = await db.rpc<{ found: boolean; changed?: boolean; run?: NodeRun }>("campaign_run_timeout", {
      p_campaign_id: ids.campaignId,
      p_node_id: ids.nodeId,
      p_product_user_id: ids.productUserId,
      p_attempt: run.attempt,
      p_message_id: run.messageId ?? null,
      p_now: now,
      p_early_ms: EARLY_MS,
    });
    if (!res.found) return { outcome: "unknown-run" };
    if (res.changed) {
      const r = res.run!;
      ctx.log.info("campaign.node.timed_out", { ...nodeLogFields(r), didTimeout: true, completedAt: r.completedAt, sinceRunAtMs: between(r.runAt, r.completedAt) });
    }
    // A retry after the transition (the cancel failed) cancels again; nothing else changes.
    if (res.run!.state === "TIMEOUT") await cancel(campaignMessageDeps(ctx), executeOwner(ids));
    return { outcome: res.changed ? "timed-out" : "ignored", state: res.run!.state };
  },
});
