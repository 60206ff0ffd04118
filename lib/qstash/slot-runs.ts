import type { FlowControl } from "@upstash/qstash";
import { jobMessage, jobTarget, qstashClient, type PublishDeps } from "./publish";

/** One run of `job` for a past slot, delivered to `/api/jobs/<job>?slot=…&trigger=…` (signed with its query). */
export async function publishSlotRun(deps: PublishDeps, job: string, slot: Date, trigger: "catch-up" | "backfill", opts: { notBefore?: Date; flowControl?: FlowControl } = {}) {
  const target = jobTarget(deps, job);
  const url = `${target.fields.url}?slot=${encodeURIComponent(slot.toISOString())}&trigger=${trigger}`;
  const message = jobMessage({ ...target, fields: { ...target.fields, url } }, {}, { notBefore: opts.notBefore, deduplicationId: `${trigger}-${job}-${slot.getTime()}`, flowControl: opts.flowControl });
  const res = await (deps.client ?? qstashClient(deps.env)).publishJSON(message);
  const one = (Array.isArray(res) ? res[0] : res) as { messageId: string; deduplicated?: boolean };
  return { messageId: one.messageId, deduplicated: one.deduplicated ?? false };
}
