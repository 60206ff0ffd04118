import { createHash } from "node:crypto";
import { z } from "zod";
import type { JobContext, JobDefinition } from "@/lib/jobs/define";
import { createRegistry } from "@/lib/jobs/registry";
import { fanOut } from "@/lib/qstash/fan-out";
import { EMAIL_BATCH_MAX } from "@/lib/providers";
import { qstashClient } from "@/lib/qstash/publish";
import { engagementEnv } from "../env";
import { emailFlowControl } from "./keys";

/**
 * A send job's payload: a page of up to 100 recipients, one Resend batch. A message of the
 * one-recipient shape (published before pages) is read as a page of one.
 */
export function recipientPage<S extends z.ZodType>(recipient: S) {
  return z.union([
    z.object({ recipients: z.array(recipient).min(1).max(EMAIL_BATCH_MAX) }),
    recipient.transform((r) => ({ recipients: [r] })),
  ]);
}

export interface PlanOptions<Row, Item> {
  /** The send job a page of items becomes a message of. */
  job: JobDefinition;
  /** A page of due rows after the previous page's last row (keyset). */
  due: (after: Row | undefined, limit: number) => Promise<Row[]>;
  item: (row: Row) => Item;
  key: (item: Item) => string;
  pageSize?: number;
}

export interface PlanResult {
  planned: number;
  /** Messages published: pages of up to 100 recipients, each one email request at delivery. */
  messages: number;
  /** Messages QStash already held (the same page from a repeated or concurrent planner within its 10 minutes). */
  deduplicated: number;
  requests: number;
}

/**
 * A planner's whole work: page through the due rows and publish one run of `job` per 100 of them
 * (a page of recipients, one Resend batch at delivery) with fanOut (the page's deduplication id is
 * a hash of its effect keys; flow control on the email provider at the configured rate: a rate of
 * requests, each of up to 100 emails). It sends nothing itself: each message's run makes its
 * emails once through runEffectBatches, so a planner that runs twice sends nothing twice.
 * `onPage` sees each page of rows after it is published (a planner that counts its rows by kind).
 */
export async function planFanOut<Row, Item>(ctx: JobContext<unknown>, opts: PlanOptions<Row, Item>, onPage?: (rows: Row[]) => void): Promise<PlanResult> {
  const limit = opts.pageSize ?? 1000;
  // Only the send job is looked up: the planner needs its URL and timeout, not the whole registry.
  const deps = { env: ctx.env, registry: createRegistry([opts.job], []), client: qstashClient(ctx.env) };
  const flowControl = emailFlowControl(engagementEnv.of(ctx.env).emailRate);
  const out: PlanResult = { planned: 0, messages: 0, deduplicated: 0, requests: 0 };
  let after: Row | undefined;
  for (;;) {
    ctx.signal.throwIfAborted();
    const rows = await opts.due(after, limit);
    if (rows.length === 0) break;
    const items = rows.map(opts.item);
    const pages: { recipients: Item[] }[] = [];
    for (let i = 0; i < items.length; i += EMAIL_BATCH_MAX) pages.push({ recipients: items.slice(i, i + EMAIL_BATCH_MAX) });
    const res = await fanOut(deps, opts.job.name, pages, { key: (p) => pageKey(opts.job.name, p.recipients.map(opts.key)), flowControl });
    out.planned += rows.length;
    out.messages += pages.length;
    out.deduplicated += res.deduplicated;
    out.requests += res.requests;
    onPage?.(rows);
    ctx.log.info("engagement.planned", { job: opts.job.name, page: rows.length, messages: pages.length, deduplicated: res.deduplicated });
    if (rows.length < limit) break;
    after = rows[rows.length - 1];
  }
  return out;
}

/** A page's deduplication id: the same recipients in the same order give the same id. */
export const pageKey = (job: string, keys: string[]) => `${job}:page:${createHash("sha256").update(keys.join("\n")).digest("base64url")}`;
