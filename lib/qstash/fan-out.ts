import { ConfigError, NonRetryableError } from "../errors";
import { isInline, runInline } from "./inline";
import { jobMessage, jobTarget, qstashClient, type JobTarget, type PublishDeps, type PublishOptions } from "./publish";

/** Messages per batch request: one request carries a page of work, not one message. */
export const BATCH_SIZE = 100;

export interface FanOutOptions<T> extends Pick<PublishOptions, "notBefore" | "delaySeconds" | "retries" | "flowControl"> {
  /**
   * The item's effect key, sent as its deduplication id: the same items published again within
   * QStash's 10-minute window (a retried planner) add no message. Past the window, the per-item
   * job's own effect claim is what keeps the work from being done twice.
   */
  key: (item: T) => string;
}

export interface FanOutResult {
  /** One per item, in order; a deduplicated item answers the id of the message it repeats. */
  messageIds: string[];
  requests: number;
  /** Items QStash already held a message for (published before, or a repeated key in `items`). */
  deduplicated: number;
}

/**
 * One one-time run of `job` per item (the item is its payload), published in batches of 100.
 * Every item is checked before the first request, so a bad item publishes nothing. A request that
 * fails leaves the batches before it published: run the fan-out again, their keys make them no-ops.
 *
 * Inside withInlineFanOut (`pnpm job:run --in-process`) nothing is published: each item runs here,
 * through the same run pipeline a delivery takes, at the flow control its message would have had.
 */
export async function fanOut<T>(deps: PublishDeps, job: string, items: readonly T[], opts: FanOutOptions<T>): Promise<FanOutResult> {
  const { key, ...publish } = opts;
  const inline = isInline();
  const target = inline ? inlineTarget(deps, job) : jobTarget(deps, job);
  const keys = items.map((item, i) => {
    const id = key(item);
    if (!id) throw new NonRetryableError(`cannot publish ${job} (item ${i}): its key is empty, and a message without a deduplication id could be sent twice`);
    return id;
  });
  const messages = items.map((item, i) => jobMessage(target, item, { ...publish, deduplicationId: keys[i] }, `item ${i}, key ${keys[i]}`));
  if (inline) {
    // The body as a delivery would carry it (JSON); the run parses it with the job's schema, as the route does.
    const runs = items.map((item, i) => ({ payload: JSON.parse(JSON.stringify(item)) as unknown, key: keys[i]! }));
    const r = await runInline(job, runs, publish);
    return { messageIds: r.ids, requests: 0, deduplicated: r.deduplicated };
  }
  const client = deps.client ?? qstashClient(deps.env);
  const out: FanOutResult = { messageIds: [], requests: 0, deduplicated: 0 };
  for (let i = 0; i < messages.length; i += BATCH_SIZE) {
    const res = await client.batchJSON(messages.slice(i, i + BATCH_SIZE));
    out.requests++;
    // URLs in, one message each out; the union type also covers URL groups, which we never use.
    for (const r of res as { messageId: string; deduplicated?: boolean }[]) {
      out.messageIds.push(r.messageId);
      if (r.deduplicated) out.deduplicated++;
    }
  }
  return out;
}

/** Run here, a message needs no URL and QStash need not reach the app: only the job must exist. */
function inlineTarget(deps: Pick<PublishDeps, "registry">, job: string): JobTarget {
  const def = deps.registry.get(job);
  if (!def) throw new ConfigError(`cannot run unknown job "${job}": list it in its product's jobs (products/<name>/index.ts), and its product in PRODUCTS`);
  return { def, fields: { url: "", timeout: 0, failureCallback: "", label: job } };
}
