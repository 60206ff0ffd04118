import type { FlowControl } from "@upstash/qstash";
import type { Db } from "../db/types";
import type { PublishDeps } from "./publish";

/**
 * What one-time messages need: QStash, the registry (the job must exist), and job_messages.
 * `clock` is the time a message's delay is measured from (whether it is parked): QStash's, which is
 * the wall clock unless a test drives the local server's; default the wall clock.
 */
export type MessageDeps = PublishDeps & { db: Db; clock?: () => Date };

/** A row of job_messages (supabase/migrations/*job_messages*.sql say what each status means). */
export interface JobMessage {
  /** QStash's id, or ours (`parked_<uuid>`) for a message parked here first: what the caller stored. */
  message_id: string;
  owner: string;
  job: string;
  not_before: string | null;
  status: "scheduled" | "cancelled" | "delivered" | "parked" | "publishing";
  created_at: string;
  cancelled_at: string | null;
  /** QStash's id once a parked message was published (null otherwise: message_id is QStash's). */
  published_id: string | null;
  payload: unknown;
  options: { flowControl?: FlowControl; retries?: number; retryDelay?: string } | null;
  dedup_id: string | null;
  /** When a sweeper took it to publish (status publishing). */
  publishing_since: string | null;
  /** Why the last publish of a parked message failed (it stays parked for the next sweep). */
  publish_error: string | null;
}
