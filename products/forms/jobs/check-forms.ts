import { CALL_JOB, callDedupId } from "../lib/calls";
import { defineJob } from "@/lib/jobs/define";
import { createRegistry } from "@/lib/jobs/registry";
import { fanOut } from "@/lib/qstash/fan-out";
import callForm from "./call-form";

interface Overdue {
  form_id: string;
  deadline: string;
}

/** A deadline call this long past due without being delivered is presumed lost (dead-lettered, never published). */
export const GRACE_MS = 15 * 60_000;
const PAGE = 500;
/** Calls placed at once across all deliveries: Vapi limits concurrent calls per account. */
const VAPI_PARALLELISM = 10;
/** What fanOut needs to know of the one job it publishes (call-form has no schedule). */
const publishable = createRegistry([callForm], []);

/**
 * The hourly catch-all: pending forms past their deadline whose one-time call is not pending
 * (never published, or due more than the grace ago) get a call-form message each, by batch
 * publish. It never calls inline; each message's deduplication id is the one the deadline call
 * used, and call-form's effect key keeps every form to one call whatever is published twice.
 */
export default defineJob({
  name: "check-forms",
  description: "Forms past their deadline, not submitted and not called, whose deadline call went missing -> call-form",
  timeoutMs: 120_000,
  async handler(ctx) {
    const { db, env, now, signal } = ctx;
    const stats = { overdue: 0, published: 0, deduplicated: 0, requests: 0 };
    let after: Overdue | undefined;
    for (;;) {
      signal.throwIfAborted();
      const page = await db.rpc<Overdue[]>("forms_overdue", {
        p_now: now,
        p_grace_ms: GRACE_MS,
        p_after_deadline: after?.deadline ?? null,
        p_after_id: after?.form_id ?? null,
        p_limit: PAGE,
      });
      if (!page.length) break;
      after = page[page.length - 1];
      const deadlines = new Map(page.map((f) => [f.form_id, new Date(f.deadline)]));
      const res = await fanOut(
        { env, registry: publishable },
        CALL_JOB,
        page.map((f) => ({ formId: f.form_id })),
        { key: (i) => callDedupId(i.formId, deadlines.get(i.formId)!), flowControl: { key: "vapi-calls", parallelism: VAPI_PARALLELISM } },
      );
      stats.overdue += page.length;
      stats.deduplicated += res.deduplicated;
      stats.published += page.length - res.deduplicated;
      stats.requests += res.requests;
      if (page.length < PAGE) break;
    }
    return stats;
  },
});
