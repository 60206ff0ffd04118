import type { JobContext } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { NonRetryableError, RetryAfterError } from "@/lib/errors";
import { effectKey, type CampaignNode, type NodeResult, type NodeRun, type NodeRunIds, type Recipient } from "./types";

export interface Started {
  run: NodeRun;
  node: CampaignNode;
  user: Recipient | null;
}

/**
 * What each node type does. Email and in-app notification are effects keyed per node run (the
 * key is also the provider's idempotency key), so a repeated delivery never sends twice; wait and
 * branch only decide what comes next and when.
 */
export async function runNode(ctx: JobContext<unknown>, s: Started): Promise<NodeResult> {
  const { node, run } = s;
  const now = ctx.now.toISOString();
  switch (node.type) {
    case "email": {
      const user = recipient(s);
      if (!user.email) throw new NonRetryableError(`user ${run.productUserId} has no email address: node "${node.id}" cannot send`);
      const { subject, text } = node.config as { subject: string; text: string };
      const email = ctx.providers.email();
      const sent = await once(ctx, run, async (key) => {
        const html = `<p>${escapeHtml(text).replaceAll("\n", "<br>")}</p>`;
        return (await email.send({ to: user.email!, subject, text, html, idempotencyKey: key, tags: { kind: "campaign", campaign: run.campaignId } }, ctx.signal)).id;
      });
      return { next: node.next, nextFrom: now, sent };
    }
    case "notification": {
      const user = recipient(s);
      const { workflowId, payload } = node.config as { workflowId: string; payload?: Record<string, unknown> };
      const notify = ctx.providers.notify();
      const sent = await once(ctx, run, async (key) => {
        const subscriber = { id: run.productUserId, ...(user.email && { email: user.email }), ...(user.name && { name: user.name }) };
        const res = await notify.trigger({ workflowId, subscriber, payload: { ...payload, campaignId: run.campaignId, nodeId: node.id }, transactionId: key }, ctx.signal);
        return res.transactionId;
      });
      return { next: node.next, nextFrom: now, sent };
    }
    case "wait": {
      const seconds = Number((node.config as { seconds?: number }).seconds ?? 0);
      return { next: node.next, nextFrom: new Date(ctx.now.getTime() + seconds * 1000).toISOString() };
    }
    case "branch": {
      const c = node.config as { attribute: string; equals: unknown; then: string | null; else: string | null };
      const taken = s.user?.attributes[c.attribute] === c.equals ? "then" : "else";
      return { next: c[taken] ?? null, nextFrom: now, branch: taken };
    }
  }
}

function recipient(s: Started): Recipient {
  if (!s.user) throw new NonRetryableError(`productUserId: ${s.run.productUserId} is not a campaign user (add it through the API first)`);
  return s.user;
}

/**
 * One effect for this node run through runEffects. QStash's retries of the delivery are the
 * retries here: a failed effect is due again at once (no backoff of its own, no extra run), and
 * the error fails the delivery.
 */
async function once(ctx: JobContext<unknown>, run: NodeRun, send: (key: string) => Promise<string>): Promise<string> {
  let failure: unknown;
  let sent: string | undefined;
  const counts = await runEffects<NodeRun, { id: string }>(
    { ...ctx, runAgainAt: async () => {} },
    {
      due: async ({ after }) => (after ? [] : [run]),
      key: (r) => effectKey(r as NodeRunIds),
      onUnknown: "retry-with-key", // Resend and Novu keep the first request per key
      subject: (r) => r.id,
      work: async (_r, effect) => {
        try {
          sent = await send(effect.key);
          return { id: sent };
        } catch (err) {
          failure = err;
          throw err;
        }
      },
      backoffMs: 0,
      concurrency: 1,
    },
  );
  if (counts.succeeded) return sent!;
  if (failure !== undefined) throw failure;
  // Claimed nothing: made by an earlier delivery, held by one still running, or given up.
  const effect = await ctx.db.rpc<{ status: string; result: { id?: string } | null } | null>("campaign_effect_status", { p_key: effectKey(run) });
  const status = effect?.status;
  if (status === "succeeded") return effect?.result?.id ?? "sent";
  if (status === "abandoned") throw new NonRetryableError(`the effect ${effectKey(run)} was given up: ${run.lastError ?? "out of attempts"}`);
  throw new RetryAfterError(`the effect ${effectKey(run)} is held by another delivery (${status})`, 30);
}

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
