import type { RunDeps } from "../jobs/run";

/**
 * The console's search (ops_search in the ledger): a run id, a QStash message id, an effect key
 * (exact, or a prefix of 3+ characters such as `transfer:`), or a subject: an effect's subject (the
 * job's own id for what it acts on), a run's concurrency key (from its payload) or a message's owner.
 */
export interface RunHit { id: string; job: string; status: string; trigger: string; attempt: number; started_at: string; message_id: string | null; matched: string }
export interface EffectHit { key: string; job: string; subject: string | null; status: string; run_id: string | null; attempts: number; max_attempts: number; updated_at: string; matched: string }
export interface MessageHit { message_id: string; owner: string; job: string; status: string; created_at: string; matched: string }
export interface DeadLetterHit { id: string; dlq_id: string | null; job: string | null; source_message_id: string; response_status: number | null; created_at: string; matched: string }
export interface SearchResult { runs: RunHit[]; effects: EffectHit[]; messages: MessageHit[]; dead_letters: DeadLetterHit[] }

/** Rows per kind; the page says when a kind has this many (there may be more). */
export const SEARCH_LIMIT = 50;

export const ACCEPTED = [
  "a run id (a UUID)",
  "a QStash message id (of a run, a scheduled one-time message, or a dead letter) or a dead letter id",
  "an effect key, e.g. transfer:<payment id>, or its beginning (3 characters or more), e.g. transfer:",
  "a subject: what an effect acts on (a payment, an appointment, a day), a run's concurrency key, or a message's owner such as form:<id>:deadline",
];

export async function search(deps: Pick<RunDeps, "db">, q: string): Promise<SearchResult> {
  return deps.db.rpc<SearchResult>("ops_search", { p_q: q, p_limit: SEARCH_LIMIT });
}

export const runHref = (id: string) => `/ops/runs/${encodeURIComponent(id)}`;
export const deadLetterHref = (d: DeadLetterHit) => (d.dlq_id ? `/ops/dead-letters?id=${encodeURIComponent(d.dlq_id)}#dead-letter` : `/ops/dead-letters${d.job ? `?job=${encodeURIComponent(d.job)}` : ""}`);
export const effectHref = (e: EffectHit) => (e.run_id ? runHref(e.run_id) : `/ops/jobs/${encodeURIComponent(e.job)}`);
export const messageHref = (m: MessageHit) => `/ops/jobs/${encodeURIComponent(m.job)}`;

export const hitCount = (r: SearchResult) => r.runs.length + r.effects.length + r.messages.length + r.dead_letters.length;

/**
 * Where one search leads straight away: the one run (or dead letter) it found. A message or dead
 * letter whose message id also names a run is that run (listed, not counted); an effect is the run
 * that last held it. An effect without a run, or a message not delivered yet, has no page of its
 * own: it is listed. Several places, or none: undefined.
 */
export function onlyTarget(r: SearchResult): string | undefined {
  const ranMessages = new Set(r.runs.map((x) => x.message_id).filter(Boolean));
  const targets = new Set([
    ...r.runs.map((x) => runHref(x.id)),
    ...r.effects.map((e) => (e.run_id ? runHref(e.run_id) : `effect ${e.key}`)),
    ...r.messages.filter((m) => !ranMessages.has(m.message_id)).map((m) => `message ${m.message_id}`),
    ...r.dead_letters.filter((d) => !ranMessages.has(d.source_message_id)).map((d) => (d.dlq_id ? deadLetterHref(d) : `dead letter ${d.id}`)),
  ]);
  const [only] = targets;
  return targets.size === 1 && only!.startsWith("/") ? only : undefined;
}
