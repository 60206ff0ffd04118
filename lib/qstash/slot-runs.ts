import type { FlowControl, PublishBatchRequest } from "@upstash/qstash";
import { NonRetryableError } from "../errors";
import { BATCH_SIZE } from "./fan-out";
import { jobMessage, jobTarget, qstashClient, type PublishDeps } from "./publish";

/** The triggers a slot run is published with (lib/auth `Trigger`). */
export const SLOT_TRIGGERS = ["catch-up", "backfill"] as const;
export type SlotTrigger = (typeof SLOT_TRIGGERS)[number];

/**
 * The query of a slot run's URL, written one way by the publisher and rebuilt the same way by the
 * job route to check the signature (QStash signs the destination as given). Encoded as Go's
 * `url.Values.Encode` would write it (keys in order, `:` as `%3A`), so the signed URL reads the
 * same whether QStash keeps the raw query or re-encodes it.
 */
export function slotQuery(slot: string, trigger: string): string {
  return `?slot=${encodeURIComponent(slot)}&trigger=${encodeURIComponent(trigger)}`;
}

/** One message per job at a time: a backfill runs slot after slot and never floods the app. */
export const backfillFlowControl = (job: string): FlowControl => ({ key: `backfill-${job}`, parallelism: 1 });

/** The same slot published twice within QStash's 10 minutes is one message; later, the ledger's slot key. */
export const slotDedupId = (job: string, slot: Date, trigger: SlotTrigger) => `${trigger}-${job}-${slot.getTime()}`;

export interface SlotRunOptions {
  notBefore?: Date;
  flowControl?: FlowControl;
}

/**
 * The messages of slot runs of a scheduled job: `/api/jobs/<job>?slot=<ISO>&trigger=<trigger>`,
 * the empty payload every tick gets, the schedule's retries and the failure callback of every job
 * message. Checked before anything is sent.
 */
function slotMessages(deps: Pick<PublishDeps, "env" | "registry">, job: string, slots: readonly Date[], trigger: SlotTrigger, opts: SlotRunOptions): PublishBatchRequest<unknown>[] {
  const target = jobTarget(deps, job);
  const schedule = deps.registry.scheduleOf(job);
  if (!schedule) throw new NonRetryableError(`cannot publish a ${trigger} run of ${job}: it has no schedule, so it has no slots`);
  return slots.map((slot) => {
    if (Number.isNaN(slot.getTime())) throw new NonRetryableError(`cannot publish a ${trigger} run of ${job}: invalid slot date`);
    const url = `${target.fields.url}${slotQuery(slot.toISOString(), trigger)}`;
    return jobMessage({ ...target, fields: { ...target.fields, url } }, {}, { notBefore: opts.notBefore, deduplicationId: slotDedupId(job, slot, trigger), retries: schedule.retries, flowControl: opts.flowControl });
  });
}

/** Publishes one run of `job` for `slot` (a missed tick the watchdog catches up, a backfilled one). */
export async function publishSlotRun(deps: PublishDeps, job: string, slot: Date, trigger: SlotTrigger, opts: SlotRunOptions = {}): Promise<{ messageId: string; deduplicated: boolean }> {
  const [message] = slotMessages(deps, job, [slot], trigger, opts);
  const res = await (deps.client ?? qstashClient(deps.env)).publishJSON(message!);
  // One URL in, one message out; the union type also covers URL groups, which we never use.
  const one = (Array.isArray(res) ? res[0] : res) as { messageId: string; deduplicated?: boolean };
  return { messageId: one.messageId, deduplicated: one.deduplicated ?? false };
}

export interface SlotRunsResult {
  /** One per slot, in order. */
  messageIds: string[];
  /** Slots QStash already held a message for (the same backfill published within 10 minutes). */
  deduplicated: number;
}

/**
 * One run per slot, in batches of 100 and in slot order, under flow control `backfill-<job>`
 * (parallelism 1) unless told otherwise. A failed request leaves the batches before it published
 * (`onBatch` has counted them): publishing the same slots again is safe, their deduplication ids
 * and the ledger's slot key make the repeats no-ops.
 */
export async function publishSlotRuns(
  deps: PublishDeps,
  job: string,
  slots: readonly Date[],
  trigger: SlotTrigger,
  opts: SlotRunOptions & { onBatch?: (published: number) => void } = {},
): Promise<SlotRunsResult> {
  const messages = slotMessages(deps, job, slots, trigger, { ...opts, flowControl: opts.flowControl ?? backfillFlowControl(job) });
  const client = deps.client ?? qstashClient(deps.env);
  const out: SlotRunsResult = { messageIds: [], deduplicated: 0 };
  for (let i = 0; i < messages.length; i += BATCH_SIZE) {
    const res = (await client.batchJSON(messages.slice(i, i + BATCH_SIZE))) as { messageId: string; deduplicated?: boolean }[];
    for (const r of res) {
      out.messageIds.push(r.messageId);
      if (r.deduplicated) out.deduplicated++;
    }
    opts.onBatch?.(res.length);
  }
  return out;
}
