import { Client, type FlowControl, type PublishBatchRequest } from "@upstash/qstash";
import type { Env } from "../env";
import { ConfigError, NonRetryableError } from "../errors";
import type { JobDefinition } from "../jobs/define";
import type { Registry } from "../jobs/registry";
import { destinationProblem } from "./destinations";

export interface PublishOptions {
  /** Seconds from now. */
  delaySeconds?: number;
  /** Deliver at (overrides the delay): a deadline, a reminder time, the next business-hours slot. */
  notBefore?: Date;
  /** Same id within 10 minutes: QStash keeps the first message only. */
  deduplicationId?: string;
  /** QStash retries after the first attempt (total attempts = 1 + retries); QStash's default is 3. */
  retries?: number;
  /**
   * `Upstash-Retry-Delay`: milliseconds before a retry, an expression over `retried` (retries so
   * far, 0 before the first), e.g. `pow(2, retried) * 1000`; QStash's default backoff without it.
   */
  retryDelay?: string;
  /** Throttle per provider: at most `parallelism` at once and `rate` per `period` seconds. */
  flowControl?: FlowControl;
}

export interface PublishDeps {
  env: Pick<Env, "qstash" | "appUrl">;
  registry: Registry;
  client?: Client;
}

export function qstashClient(env: Pick<Env, "qstash">): Client {
  return new Client({ baseUrl: env.qstash.url, token: env.qstash.token });
}

/** A job that may be published to, and what every message to it carries. */
export interface JobTarget {
  def: JobDefinition;
  fields: { url: string; timeout: number; failureCallback: string; label: string };
}

/**
 * The job's endpoint `/api/jobs/<job>`, checked once however many messages go to it: the job
 * exists and this QStash can reach it. Every message carries the failure callback that turns an
 * exhausted message into a dead letter.
 */
export function jobTarget(deps: Pick<PublishDeps, "env" | "registry">, job: string): JobTarget {
  const def = deps.registry.get(job);
  if (!def) throw new ConfigError(`cannot publish unknown job "${job}": list it in its product's jobs (products/<name>/index.ts), and its product in PRODUCTS`);
  const url = `${deps.env.appUrl}/api/jobs/${job}`;
  const problem = destinationProblem(deps.env.qstash.url, url);
  if (problem) throw new ConfigError(problem);
  const timeout = Math.ceil(deps.registry.settingsOf(job).timeoutMs / 1000);
  return { def, fields: { url, timeout, failureCallback: `${deps.env.appUrl}/api/jobs/failed`, label: job } };
}

/**
 * One message to the job. The payload is checked here, where the caller can still fix it, rather
 * than failing at delivery; `where` names the item in the error (a fan-out's item and key).
 */
export function jobMessage(target: JobTarget, payload: unknown, opts: PublishOptions, where?: string): PublishBatchRequest<unknown> {
  const parsed = target.def.payload.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new NonRetryableError(`cannot publish ${target.def.name}${where ? ` (${where})` : ""}: invalid payload: ${issues}`);
  }
  return {
    ...target.fields,
    body: payload,
    delay: opts.notBefore ? undefined : opts.delaySeconds,
    // QStash takes whole seconds; rounded up, "not before" is never a moment early.
    notBefore: opts.notBefore ? Math.ceil(opts.notBefore.getTime() / 1000) : undefined,
    deduplicationId: opts.deduplicationId,
    retries: opts.retries,
    retryDelay: opts.retryDelay,
    flowControl: opts.flowControl,
  };
}

/** Publishes a one-time run of `job` to `/api/jobs/<job>`. */
export async function publishJob(deps: PublishDeps, job: string, payload: unknown, opts: PublishOptions = {}): Promise<{ messageId: string; deduplicated: boolean }> {
  const message = jobMessage(jobTarget(deps, job), payload, opts);
  const res = await (deps.client ?? qstashClient(deps.env)).publishJSON(message);
  // One URL in, one message out; the union type also covers URL groups, which we never use.
  const one = (Array.isArray(res) ? res[0] : res) as { messageId: string; deduplicated?: boolean };
  return { messageId: one.messageId, deduplicated: one.deduplicated ?? false };
}
