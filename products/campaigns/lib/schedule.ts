import type { Env } from "@/lib/env";
import { campaignsEnv } from "../env";
import { cancel, schedule, type MessageDeps as QStashDeps } from "@/lib/qstash/messages";
import { DEFAULT_BUSINESS_HOURS, nextBusinessInstant } from "@/lib/time/business-hours";
import {
  executeDedupId,
  executeOwner,
  EXECUTE_ATTEMPTS,
  EXECUTE_JOB,
  EXECUTE_RETRY_DELAY,
  idsOf,
  timeoutDedupId,
  timeoutOwner,
  TIMEOUT_JOB,
  type NodeRun,
  type NodeRunIds,
  type Timing,
} from "./types";

/** The one-time message deps, with the env's execution rate for flow control. */
export type MessageDeps = QStashDeps & { env: Env };

/**
 * The flow-control key of every campaign's executions. QStash counts its rate per key, so one key
 * is one limit for the whole queue (a key per campaign gave N campaigns N times the rate). Keys
 * are per QStash account: the environment's prefix keeps staging from spending production's rate.
 */
export const executionFlowKey = (env: Pick<Env, "schedulePrefix">) => `${env.schedulePrefix}-campaign-executions`;

/**
 * When a node runs: at a given instant; at the first business-hours instant from `from` (default
 * now); or by the node's own timing after `after` (a successor: at once, or in business hours).
 */
export type When = { at: Date } | { businessHours: true; from?: Date } | { after: Date };

export interface PlanOptions {
  now: Date;
  /** Default: the node's timeoutSeconds after the run's instant (none when the node has none). */
  timeoutAt?: Date;
}

export interface Planned {
  /** False when the node run was planned before: the state table keeps the first, for ever. */
  created: boolean;
  run: NodeRun;
}

/** A node or campaign that does not exist: the API answers 404 naming it. */
export class CampaignNotFoundError extends Error {
  override name = "CampaignNotFoundError";
}

interface PlanContext {
  zone: string;
  hours: { start: string; end: string; days: number[] } | null;
  timeoutSeconds: number | null;
  timing: Timing;
  userZone: string | null;
  userKnown: boolean;
}

async function planContext(deps: MessageDeps, ids: NodeRunIds): Promise<PlanContext> {
  const ctx = await deps.db.rpc<PlanContext | null>("campaign_plan_context", { p_campaign_id: ids.campaignId, p_node_id: ids.nodeId, p_product_user_id: ids.productUserId });
  if (!ctx) throw new CampaignNotFoundError(`nodeId: campaign ${ids.campaignId} has no node "${ids.nodeId}"`);
  return ctx;
}

/** The instant a node runs for a user: business hours in the user's zone, or the campaign's when the user has none. */
export function runAtFor(ctx: Pick<PlanContext, "zone" | "hours" | "userZone" | "timing">, when: When, now: Date): Date {
  if ("at" in when) return when.at;
  if ("after" in when && ctx.timing === "immediate") return when.after;
  const start = "after" in when ? when.after : when.from;
  const from = start && start > now ? start : now;
  return nextBusinessInstant(from, { zone: ctx.userZone ?? ctx.zone, ...DEFAULT_BUSINESS_HOURS, ...ctx.hours });
}

/**
 * Plans one node for one user: the PENDING run (or the one planned before), its execution message
 * at the run's instant (queue-wide flow control, EXECUTE_ATTEMPTS attempts) and its timeout
 * message. A message already recorded on the run is not published again; QStash's deduplication
 * ids cover a crash between publishing and recording for its 10 minutes, the run's unique key
 * covers the rest for ever.
 */
export async function scheduleNode(deps: MessageDeps, ids: NodeRunIds, when: When, opts: PlanOptions): Promise<Planned> {
  const ctx = await planContext(deps, ids);
  const runAt = runAtFor(ctx, when, opts.now);
  const timeoutAt = opts.timeoutAt ?? (ctx.timeoutSeconds ? new Date(runAt.getTime() + ctx.timeoutSeconds * 1000) : undefined);
  const plan = await deps.db.rpc<Planned>("campaign_run_plan", {
    p_campaign_id: ids.campaignId,
    p_node_id: ids.nodeId,
    p_user_id: ids.userId,
    p_product_user_id: ids.productUserId,
    p_run_at: runAt,
    p_timeout_at: timeoutAt ?? null,
    p_now: opts.now,
  });
  return { created: plan.created, run: await publishMissing(deps, plan.run, executeDedupId(ids), timeoutDedupId(ids)) };
}

async function publishMissing(deps: MessageDeps, run: NodeRun, executeId: string, timeoutId: string): Promise<NodeRun> {
  if (run.state !== "PENDING") return run;
  const ids = idsOf(run);
  if (!run.executeMessageId) {
    const m = await schedule(deps, {
      owner: executeOwner(ids),
      job: EXECUTE_JOB,
      payload: ids,
      notBefore: new Date(run.runAt),
      deduplicationId: executeId,
      flowControl: { key: executionFlowKey(deps.env), rate: campaignsEnv.of(deps.env).executionRate, period: 1 },
      retries: EXECUTE_ATTEMPTS - 1,
      retryDelay: EXECUTE_RETRY_DELAY,
    });
    run = await recordMessages(deps, ids, { execute: m.messageId });
  }
  if (run.timeoutAt && !run.timeoutMessageId) run = await publishTimeout(deps, ids, new Date(run.timeoutAt), timeoutId);
  return run;
}

/** Publishes the node's timeout for `timeoutAt` (a node without a run yet has nothing to time out). */
export async function scheduleTimeout(deps: MessageDeps, ids: NodeRunIds, timeoutAt: Date): Promise<NodeRun> {
  return publishTimeout(deps, ids, timeoutAt, timeoutDedupId(ids));
}

async function publishTimeout(deps: MessageDeps, ids: NodeRunIds, timeoutAt: Date, deduplicationId: string): Promise<NodeRun> {
  const m = await schedule(deps, { owner: timeoutOwner(ids), job: TIMEOUT_JOB, payload: ids, notBefore: timeoutAt, deduplicationId });
  return recordMessages(deps, ids, { timeout: m.messageId, timeoutAt });
}

async function recordMessages(deps: MessageDeps, ids: NodeRunIds, m: { execute?: string; timeout?: string; timeoutAt?: Date }): Promise<NodeRun> {
  const run = await deps.db.rpc<NodeRun | null>("campaign_run_messages", {
    p_campaign_id: ids.campaignId,
    p_node_id: ids.nodeId,
    p_product_user_id: ids.productUserId,
    p_execute_message_id: m.execute ?? null,
    p_timeout_message_id: m.timeout ?? null,
    p_timeout_at: m.timeoutAt ?? null,
    p_now: new Date(),
  });
  if (!run) throw new CampaignNotFoundError(`no node run of node "${ids.nodeId}" for user ${ids.productUserId} in campaign ${ids.campaignId}`);
  return run;
}

export interface Changed {
  /** False when the run was no longer PENDING: it ran, timed out or was cancelled already. */
  changed: boolean;
  run: NodeRun;
}

async function change(deps: MessageDeps, ids: NodeRunIds, runAt: Date | null, timeoutAt: Date | null, now: Date): Promise<Changed> {
  const res = await deps.db.rpc<{ found: boolean } & Partial<Changed>>("campaign_run_change", {
    p_campaign_id: ids.campaignId,
    p_node_id: ids.nodeId,
    p_product_user_id: ids.productUserId,
    p_run_at: runAt,
    p_timeout_at: timeoutAt,
    p_now: now,
  });
  if (!res.found) throw new CampaignNotFoundError(`productUserId: node "${ids.nodeId}" of campaign ${ids.campaignId} is not planned for ${ids.productUserId}`);
  return { changed: res.changed!, run: res.run! };
}

/**
 * Moves a PENDING run: the state first (a message of the old time that still arrives is then
 * early and ignored), then its messages are cancelled and published again for the new time, with
 * deduplication ids of that time (QStash keeps the cancelled ones' ids for 10 minutes).
 */
export async function rescheduleNode(deps: MessageDeps, ids: NodeRunIds, when: When, opts: PlanOptions): Promise<Changed> {
  const ctx = await planContext(deps, ids);
  const runAt = runAtFor(ctx, when, opts.now);
  const timeoutAt = opts.timeoutAt ?? (ctx.timeoutSeconds ? new Date(runAt.getTime() + ctx.timeoutSeconds * 1000) : null);
  const moved = await change(deps, ids, runAt, timeoutAt, opts.now);
  if (!moved.changed) return moved;
  await cancel(deps, executeOwner(ids));
  await cancel(deps, timeoutOwner(ids));
  const at = Math.ceil(runAt.getTime() / 1000);
  return { changed: true, run: await publishMissing(deps, moved.run, `${executeDedupId(ids)}-at-${at}`, `${timeoutDedupId(ids)}-at-${at}`) };
}

/** Takes a PENDING run back: CANCELLED, and its messages cancelled at QStash. */
export async function cancelNode(deps: MessageDeps, ids: NodeRunIds, now: Date): Promise<Changed> {
  const res = await change(deps, ids, null, null, now);
  if (res.changed) {
    await cancel(deps, executeOwner(ids));
    await cancel(deps, timeoutOwner(ids));
  }
  return res;
}
