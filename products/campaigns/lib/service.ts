import type { MessageDeps } from "./schedule";
import type { CreateCampaign } from "./input";
import { CampaignNotFoundError, scheduleNode, type Planned, type When } from "./schedule";
import type { NodeRunIds } from "./types";

export interface CampaignStats {
  campaignId: string;
  name: string;
  runs: number;
  states: Record<string, number>;
  attempts: number;
  failures: { type: string; count: number; rate: number | null }[];
  medianLagMs: number | null;
}

export function createCampaign(deps: Pick<MessageDeps, "db">, input: CreateCampaign, now: Date): Promise<{ id: string }> {
  return deps.db.rpc("campaign_create", { p_name: input.name, p_zone: input.zone, p_hours: input.hours, p_nodes: input.nodes, p_now: now });
}

export async function getCampaign(deps: Pick<MessageDeps, "db">, id: string): Promise<Record<string, unknown> | null> {
  const campaign = await deps.db.rpc<Record<string, unknown> | null>("campaign_get", { p_id: id });
  if (!campaign) return null;
  const [stats] = await campaignStats(deps, id);
  return { ...campaign, stats };
}

/** Per campaign (or the one given): runs by state, failures by error type, median lag. */
export function campaignStats(deps: Pick<MessageDeps, "db">, id?: string): Promise<CampaignStats[]> {
  return deps.db.rpc<CampaignStats[]>("campaign_stats", { p_campaign_id: id ?? null });
}

export interface UserInput {
  userId: string;
  productUserId: string;
  email?: string;
  name?: string;
  zone?: string;
  attributes?: Record<string, unknown>;
}

/** Records the users (zone, address, attributes), then plans the node for each, a few at a time. */
export async function scheduleUsers(deps: MessageDeps, campaignId: string, nodeId: string, users: UserInput[], when: When, opts: { now: Date; timeoutAt?: Date }): Promise<Planned[]> {
  // The node is checked first: users are recorded only for a plan that can be made.
  const campaign = await deps.db.rpc<{ nodes: { id: string }[] } | null>("campaign_get", { p_id: campaignId });
  if (!campaign?.nodes.some((n) => n.id === nodeId)) throw new CampaignNotFoundError(`nodeId: campaign ${campaignId} has no node "${nodeId}"`);
  await deps.db.rpc("campaign_users_upsert", { p_users: users, p_now: opts.now });
  const planned: Planned[] = new Array(users.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < users.length; i = next++) {
      const u = users[i]!;
      const ids: NodeRunIds = { campaignId, nodeId, userId: u.userId, productUserId: u.productUserId };
      planned[i] = await scheduleNode(deps, ids, when, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, users.length) }, worker));
  return planned;
}

export function userStory(deps: Pick<MessageDeps, "db">, campaignId: string, productUserId: string): Promise<{ runs: unknown[]; events: unknown[] }> {
  return deps.db.rpc("campaign_user_story", { p_campaign_id: campaignId, p_product_user_id: productUserId });
}
