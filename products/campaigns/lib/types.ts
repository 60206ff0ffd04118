import { z } from "zod";

export const EXECUTE_JOB = "campaign-node-execute";
export const TIMEOUT_JOB = "campaign-node-timeout";

/** Deliveries of a node's execution message: the first and QStash's retries (`Upstash-Retries: 2`). */
export const EXECUTE_ATTEMPTS = 3;
/** Milliseconds before a retry; QStash's `retried` is the retries so far (0 first): 1 s, then 2 s. */
export const EXECUTE_RETRY_DELAY = "pow(2, retried) * 1000";

/** Characters that survive an HTTP header (deduplication ids) and an owner name unchanged. */
export const NODE_ID = /^[A-Za-z0-9_]{1,64}$/;
export const PRODUCT_USER_ID = /^[A-Za-z0-9_.@+-]{1,128}$/;

/** What both jobs are delivered: one node of one campaign for one user. */
export const NodeRunIds = z.object({
  campaignId: z.uuid(),
  nodeId: z.string().regex(NODE_ID, "letters, digits and _ only, at most 64"),
  userId: z.string().min(1).max(128),
  productUserId: z.string().regex(PRODUCT_USER_ID, "letters, digits and _ . @ + - only, at most 128"),
});
export type NodeRunIds = z.output<typeof NodeRunIds>;

export type RunState = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "TIMEOUT" | "CANCELLED";

/** A node run as the SQL functions answer it (campaign_run_json). */
export interface NodeRun extends NodeRunIds {
  id: string;
  state: RunState;
  runAt: string;
  timeoutAt: string | null;
  attempts: number;
  didTimeout: boolean;
  startedAt: string | null;
  completedAt: string | null;
  lastError: string | null;
  lastErrorType: string | null;
  result: NodeResult | null;
  executeMessageId: string | null;
  timeoutMessageId: string | null;
}

export type NodeType = "email" | "notification" | "wait" | "branch";
export type Timing = "business_hours" | "immediate";

export interface CampaignNode {
  id: string;
  type: NodeType;
  config: Record<string, unknown>;
  next: string | null;
  timing: Timing;
}

export interface Recipient {
  email: string | null;
  name: string | null;
  zone: string | null;
  attributes: Record<string, unknown>;
}

/** What a node did, kept on its run: enough to plan its successor again after a crash. */
export interface NodeResult {
  /** The node to plan next, if any. */
  next: string | null;
  /** The successor's earliest time (a wait node's end); its timing may move it into business hours. */
  nextFrom: string;
  /** The provider's id of what was sent. */
  sent?: string;
  /** The way a branch took. */
  branch?: "then" | "else";
}

// Owners in job_messages and QStash deduplication ids, per node run.
export const executeOwner = (i: NodeRunIds) => `campaign:${i.campaignId}:${i.nodeId}:${i.productUserId}:execute`;
export const timeoutOwner = (i: NodeRunIds) => `campaign:${i.campaignId}:${i.nodeId}:${i.productUserId}:timeout`;
export const executeDedupId = (i: NodeRunIds) => `${i.campaignId}-${i.nodeId}-${i.productUserId}`;
export const timeoutDedupId = (i: NodeRunIds) => `timeout-${i.campaignId}-${i.nodeId}-${i.productUserId}`;
/** The effect of a node run (an email, a notification): also the provider's idempotency key. */
export const effectKey = (i: NodeRunIds) => `campaign:${i.campaignId}:${i.nodeId}:${i.productUserId}`;

export const idsOf = (r: NodeRunIds): NodeRunIds => ({ campaignId: r.campaignId, nodeId: r.nodeId, userId: r.userId, productUserId: r.productUserId });
