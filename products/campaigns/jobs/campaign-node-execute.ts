import { campaignMessageDeps } from "../lib/deps";
import { between, nodeLogFields } from "../lib/log";
import { runNode, type Started } from "../lib/nodes";
import { scheduleNode, type MessageDeps } from "../lib/schedule";
import { EXECUTE_ATTEMPTS, idsOf, NodeRunIds, timeoutOwner, type NodeResult, type NodeRun } from "../lib/types";
import { describeError, NonRetryableError, RetryAfterError } from "@/lib/errors";
import { defineJob, type JobContext } from "@/lib/jobs/define";
import { createRegistry } from "@/lib/jobs/registry";
import { cancel } from "@/lib/qstash/messages";
import timeoutJob from "./campaign-node-timeout";

/** How early a delivery may come and still count as due (QStash and app clocks differ a little). */
const EARLY_MS = 60_000;

type Start = { found: false } | ({ found: true; started: boolean } & Started);

/**
 * Runs one node for one user: PENDING (or FAILED, on a retry) -> RUNNING -> COMPLETED or FAILED,
 * each transition audited with the delivery's attempt and message id. A run already COMPLETED,
 * TIMEOUT or CANCELLED changes nothing (recorded); a COMPLETED one still makes sure its successor
 * was planned, in case the delivery that completed it died before planning. A completed or failed
 * attempt logs `campaign.node.completed` / `campaign.node.failed` with the campaign, node, product
 * user, attempts and durations (lib/log.ts).
 */
const job = defineJob({
  name: "campaign-node-execute",
  description: "Run a campaign node for a user: send, notify, wait or branch, then plan the next node",
  payload: NodeRunIds,
  timeoutMs: 60_000,
  async handler(ctx) {
    const { payload: ids, db, now, run } = ctx;
    const start = await db.rpc<Start>("campaign_run_start", {
      p_campaign_id: ids.campaignId,
      p_node_id: ids.nodeId,
      p_product_user_id: ids.productUserId,
      p_attempt: run.attempt,
      p_message_id: run.messageId ?? null,
      p_now: now,
      p_early_ms: EARLY_MS,
    });
    if (!start.found) return { outcome: "unknown-run" };
    const deps = campaignMessageDeps(ctx, createRegistry([job, timeoutJob], []));
    if (!start.started) {
      if (start.run.state === "COMPLETED") await afterCompleted(ctx, deps, start.run);
      return { outcome: "ignored", state: start.run.state };
    }
    const t0 = performance.now();
    const durationMs = () => Math.round(performance.now() - t0);
    let result: NodeResult;
    try {
      result = await runNode(ctx, start);
    } catch (err) {
      // A rate limit, or the effect held by another delivery, is not a failure of the node: later.
      if (!(err instanceof RetryAfterError)) {
        const error = describeError(err);
        const failed = await finish(ctx, start.run, "FAILED", null, error);
        // The last attempt, or one that cannot get better: QStash dead-letters the message next.
        const lastAttempt = err instanceof NonRetryableError || run.attempt + 1 >= EXECUTE_ATTEMPTS;
        ctx.log[lastAttempt ? "error" : "warn"]("campaign.node.failed", {
          ...nodeLogFields(failed.run),
          attempt: run.attempt + 1,
          state: failed.run.state,
          lastAttempt,
          durationMs: durationMs(),
          elapsedMs: between(failed.run.startedAt, now),
          error,
        });
      }
      throw err;
    }
    const done = await finish(ctx, start.run, "COMPLETED", result, null);
    // `late`: it did its work, but the timeout had already given the node up.
    ctx.log.info(done.changed ? "campaign.node.completed" : "campaign.node.late", {
      ...nodeLogFields(done.run),
      attempt: run.attempt + 1,
      state: done.run.state,
      durationMs: durationMs(),
      // From the first attempt's start to this one's end: retries and their waits included.
      elapsedMs: between(done.run.startedAt, now),
    });
    // The timeout won the race: the node is given up, whatever it managed to do.
    if (!done.changed) return { outcome: "late", state: done.run.state };
    await afterCompleted(ctx, deps, done.run);
    return { outcome: "completed", next: result.next };
  },
});
export default job;

function finish(ctx: JobContext<unknown>, run: NodeRun, state: "COMPLETED" | "FAILED", result: NodeResult | null, error: { name: string; message: string } | null) {
  return ctx.db.rpc<{ changed: boolean; run: NodeRun }>("campaign_run_finish", {
    p_run_id: run.id,
    p_state: state,
    p_attempt: ctx.run.attempt,
    p_message_id: ctx.run.messageId ?? null,
    p_result: result,
    p_error_type: error?.name ?? null,
    p_error: error?.message ?? null,
    p_now: ctx.now,
  });
}

/** Both are idempotent: a cancel of nothing, a plan the state table already holds. */
async function afterCompleted(ctx: JobContext<unknown>, deps: MessageDeps, run: NodeRun) {
  await cancel(deps, timeoutOwner(run));
  const next = run.result?.next;
  if (!next) return;
  await scheduleNode(deps, { ...idsOf(run), nodeId: next }, { after: new Date(run.result!.nextFrom) }, { now: ctx.now });
}
