import { Client, type FlowControl } from "@upstash/qstash";
import type { Env } from "../env";
import { ConfigError, NonRetryableError } from "../errors";
import type { Registry } from "../jobs/registry";
import { destinationProblem } from "./destinations";

export interface PublishOptions {
  /** Seconds from now. */
  delaySeconds?: number;
  /** Deliver at (overrides the delay): a deadline, a reminder time, the next business-hours slot. */
  notBefore?: Date;
  /** Same id within 10 minutes: QStash keeps the first message only. */
  deduplicationId?: string;
  retries?: number;
  /** Throttle per provider: at most `parallelism` at once and `rate` per `period` seconds. */
  flowControl?: FlowControl;
}

export function qstashClient(env: Pick<Env, "qstash">): Client {
  return new Client({ baseUrl: env.qstash.url, token: env.qstash.token });
}

/**
 * Publishes a one-time run of `job` to `/api/jobs/<job>`, with the failure callback that turns an
 * exhausted message into a dead letter. The payload is checked here, where the caller can still
 * fix it, rather than failing at delivery.
 */
export async function publishJob(
  deps: { env: Pick<Env, "qstash" | "appUrl">; registry: Registry; client?: Client },
  job: string,
  payload: unknown,
  opts: PublishOptions = {},
): Promise<{ messageId: string; deduplicated: boolean }> {
  const def = deps.registry.get(job);
  if (!def) throw new ConfigError(`cannot publish unknown job "${job}": add it to jobs/index.ts`);
  const parsed = def.payload.safeParse(payload);
  if (!parsed.success) throw new NonRetryableError(`cannot publish ${job}: invalid payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const url = `${deps.env.appUrl}/api/jobs/${job}`;
  const problem = destinationProblem(deps.env.qstash.url, url);
  if (problem) throw new ConfigError(problem);
  const client = deps.client ?? qstashClient(deps.env);
  const res = await client.publishJSON({
    url,
    body: payload,
    delay: opts.notBefore ? undefined : opts.delaySeconds,
    notBefore: opts.notBefore ? Math.floor(opts.notBefore.getTime() / 1000) : undefined,
    deduplicationId: opts.deduplicationId,
    retries: opts.retries,
    timeout: Math.ceil(deps.registry.settingsOf(job).timeoutMs / 1000),
    failureCallback: `${deps.env.appUrl}/api/jobs/failed`,
    label: job,
    flowControl: opts.flowControl,
  });
  // One URL in, one message out; the union type also covers URL groups, which we never use.
  const one = (Array.isArray(res) ? res[0] : res) as { messageId: string; deduplicated?: boolean };
  return { messageId: one.messageId, deduplicated: one.deduplicated ?? false };
}
