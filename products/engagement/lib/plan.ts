import type { JobContext, JobDefinition } from "@/lib/jobs/define";
import { createRegistry } from "@/lib/jobs/registry";
import { fanOut } from "@/lib/qstash/fan-out";
import { qstashClient } from "@/lib/qstash/publish";
import { engagementEnv } from "../env";
import { emailFlowControl } from "./keys";

export interface PlanOptions<Row, Item> {
  /** The send job each item becomes a message of. */
  job: JobDefinition;
  /** A page of due rows after the previous page's last row (keyset). */
  due: (after: Row | undefined, limit: number) => Promise<Row[]>;
  item: (row: Row) => Item;
  key: (item: Item) => string;
  pageSize?: number;
}

export interface PlanResult {
  planned: number;
  /** Items QStash already held a message for (a repeated or concurrent planner within its 10 minutes). */
  deduplicated: number;
  requests: number;
}

/**
 * A planner's whole work: page through the due rows and publish one run of `job` per row with
 * fanOut (batches of 100, key = the effect key as deduplication id, flow control on the email
 * provider at the configured rate). It sends nothing itself: each message's run makes its email
 * once through runEffects, so a planner that runs twice sends nothing twice. `onPage` sees each
 * page after it is published (a planner that counts its rows by kind).
 */
export async function planFanOut<Row, Item>(ctx: JobContext<unknown>, opts: PlanOptions<Row, Item>, onPage?: (rows: Row[]) => void): Promise<PlanResult> {
  const limit = opts.pageSize ?? 1000;
  // Only the send job is looked up: the planner needs its URL and timeout, not the whole registry.
  const deps = { env: ctx.env, registry: createRegistry([opts.job], []), client: qstashClient(ctx.env) };
  const flowControl = emailFlowControl(engagementEnv.of(ctx.env).emailRate);
  const out: PlanResult = { planned: 0, deduplicated: 0, requests: 0 };
  let after: Row | undefined;
  for (;;) {
    ctx.signal.throwIfAborted();
    const rows = await opts.due(after, limit);
    if (rows.length === 0) break;
    const res = await fanOut(deps, opts.job.name, rows.map(opts.item), { key: opts.key, flowControl });
    out.planned += rows.length;
    out.deduplicated += res.deduplicated;
    out.requests += res.requests;
    onPage?.(rows);
    ctx.log.info("engagement.planned", { job: opts.job.name, page: rows.length, deduplicated: res.deduplicated });
    if (rows.length < limit) break;
    after = rows[rows.length - 1];
  }
  return out;
}
