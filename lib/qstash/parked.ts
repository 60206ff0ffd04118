import { randomUUID } from "node:crypto";
import { QstashError, type FlowControl } from "@upstash/qstash";
import type { Env } from "../env";
import { describeError, NonRetryableError } from "../errors";
import type { Logger } from "../log";
import type { JobMessage, MessageDeps } from "./message-types";
import { jobMessage, jobTarget, publishJob, qstashClient } from "./publish";

/**
 * One-time messages due further out than QStash accepts (QSTASH_MAX_DELAY; free plan 7 days, pay
 * as you go 1 year) wait in job_messages, parked, and are published once they come within range:
 * keep-alive and the watchdog call `publishParked`. The caller gets an id of ours (`parked_<uuid>`)
 * that cancel and reschedule understand, whether or not the message was published since.
 */

const HOUR_MS = 3_600_000;
/** A claim older than this belongs to a sweeper that died: publishing takes seconds. */
export const STALE_CLAIM_MS = 5 * 60_000;
/** Rows claimed per round, and rounds per sweep (1,000 messages; the next sweep takes the rest). */
const PAGE = 100;
const MAX_PAGES = 10;

/**
 * How far inside QStash's limit we stay. QStash measures the delay on its own clock when the
 * publish arrives: a message exactly at the limit is refused for a second of clock drift or a
 * slow retry. An hour leaves room for both and only publishes an hour earlier (delivery is still at
 * notBefore); a tenth of the limit keeps a short limit (a test's) from going negative.
 */
export const safetyMarginMs = (maxDelayMs: number) => Math.min(HOUR_MS, Math.floor(maxDelayMs / 10));

/** The latest notBefore QStash takes from a publish made at `now`, less the margin. */
export function publishHorizon(env: Pick<Env, "qstash">, now: Date): Date {
  return new Date(now.getTime() + env.qstash.maxDelayMs - safetyMarginMs(env.qstash.maxDelayMs));
}

export interface ParkRequest {
  owner: string;
  job: string;
  payload: unknown;
  notBefore: Date;
  deduplicationId?: string;
  flowControl?: FlowControl;
  retries?: number;
  retryDelay?: string;
}

/** Records a message to publish later; the payload is checked now, where the caller can fix it. */
export async function park(deps: MessageDeps, req: ParkRequest, now: Date): Promise<{ messageId: string; deduplicated: boolean }> {
  jobMessage(jobTarget(deps, req.job), req.payload, {});
  // What the message is published with once it comes within range.
  const options = {
    ...(req.flowControl && { flowControl: req.flowControl }),
    ...(req.retries !== undefined && { retries: req.retries }),
    ...(req.retryDelay !== undefined && { retryDelay: req.retryDelay }),
  };
  const row = await deps.db.rpc<JobMessage & { deduplicated: boolean }>("job_messages_park", {
    p_owner: req.owner,
    p_job: req.job,
    p_message_id: `parked_${randomUUID()}`,
    p_payload: req.payload ?? null,
    p_options: options,
    p_dedup_id: req.deduplicationId ?? null,
    p_not_before: req.notBefore,
    p_now: now,
  });
  if (row.status === "cancelled") {
    throw new NonRetryableError(
      `the message for ${req.owner} was parked under deduplicationId ${req.deduplicationId} as ${row.message_id}, which was cancelled: nothing is scheduled. Use another deduplicationId (one is remembered for 10 minutes, as QStash does).`,
    );
  }
  return { messageId: row.message_id, deduplicated: row.deduplicated };
}

/**
 * Publishes every parked message now within range, soonest first, at its notBefore (at once when
 * that has passed: it runs late, and the log says so). Only the jobs this deployment runs (its
 * registry): a message of a job since removed stays parked, in job_messages.
 *
 * Each row is claimed first (parked -> publishing, skipping rows another sweeper holds), so
 * concurrent sweeps publish each once. The deduplication id is the row's own, so a sweeper that
 * dies between publishing and recording is answered the same message when a later sweep claims
 * the row again (after STALE_CLAIM_MS) within QStash's 10 minutes. Beyond those 10 minutes (no
 * sweep ran in between) it may be published twice: delivery is at least once anyway, and every
 * job checks at delivery that its work is wanted (call-form reads the form; effect keys keep an
 * effect once).
 */
export async function publishParked(deps: MessageDeps & { log?: Logger }, now: Date): Promise<{ published: number; late: number; errors: string[] }> {
  const client = deps.client ?? qstashClient(deps.env);
  const out = { published: 0, late: 0, errors: [] as string[] };
  for (let page = 0; page < MAX_PAGES; page++) {
    const rows = await deps.db.rpc<JobMessage[]>("job_messages_claim_parked", {
      p_jobs: [...deps.registry.jobs.keys()],
      p_horizon: publishHorizon(deps.env, now),
      p_stale_before: new Date(now.getTime() - STALE_CLAIM_MS),
      p_now: now,
      p_limit: PAGE,
    });
    for (const row of rows) await publishOne({ ...deps, client }, row, now, out);
    if (rows.length < PAGE) break;
  }
  return out;
}

async function publishOne(deps: MessageDeps & { log?: Logger }, row: JobMessage, now: Date, out: { published: number; late: number; errors: string[] }) {
  const notBefore = new Date(row.not_before!);
  const late = notBefore.getTime() <= now.getTime();
  const where = `${row.message_id} (${row.owner}, job ${row.job})`;
  let publishedId: string;
  try {
    const opts = { ...row.options, deduplicationId: `publish-${row.message_id}`, notBefore: late ? undefined : notBefore };
    publishedId = (await publishJob(deps, row.job, row.payload, opts)).messageId;
  } catch (err) {
    const why = describeError(err).message;
    out.errors.push(`${where}: ${why}`);
    await deps.db.rpc("job_messages_release", { p_message_id: row.message_id, p_error: why }).catch(() => {});
    return;
  }
  let r: { status: JobMessage["status"]; changed: boolean };
  try {
    r = await deps.db.rpc("job_messages_published", { p_message_id: row.message_id, p_published_id: publishedId, p_now: now });
  } catch (err) {
    // Left in publishing: a later sweep claims it again and QStash answers the same message.
    return void out.errors.push(`${where}: published as ${publishedId} but not recorded: ${describeError(err).message}`);
  }
  if (r.status === "cancelled") {
    try {
      await cancelPublished(deps, publishedId);
    } catch (err) {
      out.errors.push(`${where}: cancelled while being published, and its message ${publishedId} could not be taken back: ${describeError(err).message}`);
    }
    return;
  }
  if (!r.changed) return;
  out.published++;
  if (late) {
    out.late++;
    deps.log?.warn("parked_message.late", { messageId: row.message_id, publishedId, owner: row.owner, job: row.job, notBefore: row.not_before, lateMs: now.getTime() - notBefore.getTime() });
  }
}

/** Cancelled while it was being published: take the published message back (gone already is fine). */
async function cancelPublished(deps: MessageDeps, publishedId: string) {
  try {
    await deps.client!.messages.cancel(publishedId);
  } catch (err) {
    if (!(err instanceof QstashError && (err as QstashError & { status?: number }).status === 404)) throw err;
  }
}
