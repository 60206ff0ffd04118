import type { Client } from "@upstash/qstash";
import type { RunDeps } from "../jobs/run";
import type { KeptLine } from "../jobs/kept-lines";
import type { DeadLetter } from "../qstash/dlq";
import { describeQStashError } from "../qstash/client";
import { ourDeadLetters } from "./dead-letters";

export interface RunRow {
  id: string;
  job: string;
  trigger: string;
  status: string;
  message_id: string | null;
  schedule_id: string | null;
  /** Upstash-Retried as QStash sent it: 0 on the first delivery. */
  attempt: number;
  slot_at: string | null;
  started_at: string;
  finished_at: string | null;
  renewed_at: string | null;
  duration_ms: number | null;
  lag_ms: number | null;
  stats: unknown;
  error: ErrorShape | null;
  payload: unknown;
  logs: KeptLine[] | null;
  buffered_message_id?: string | null;
  buffered_slot_at?: string | null;
  buffered_at?: string | null;
}

/** What describeError (lib/errors.ts) records: a name, a message, and the chain of causes. */
export interface ErrorShape {
  name?: string;
  message?: string;
  status?: number;
  cause?: ErrorShape | unknown;
  [k: string]: unknown;
}

export interface EffectRow {
  key: string;
  job: string;
  subject: string | null;
  status: "claimed" | "succeeded" | "failed" | "unknown" | "abandoned";
  attempts: number;
  max_attempts: number;
  next_attempt_at: string | null;
  reconcile: boolean;
  result: unknown;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  lease_until: string | null;
}

export interface ActionRow {
  id: number;
  at: string;
  operator: string;
  action: string;
  job: string | null;
  run_id: string | null;
  effect_key: string | null;
  target: string | null;
  reason: string | null;
  ok: boolean;
  outcome: string;
}

export interface RunDetail {
  run: RunRow;
  effects: EffectRow[];
  batches: { key: string; keys: string[]; attempts: number[]; single: boolean; created_at: string }[];
  /** Every delivery of the run's message (its QStash retries), oldest first. */
  deliveries: { id: string; status: string; attempt: number; started_at: string }[];
  actions: ActionRow[];
}

export const isRunId = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);

export async function runDetail(deps: Pick<RunDeps, "db">, id: string): Promise<RunDetail | null> {
  if (!isRunId(id)) return null;
  return deps.db.rpc<RunDetail | null>("ops_run_detail", { p_run_id: id });
}

/**
 * The dead letter of the run's message in this deployment's DLQ, if QStash gave up on it: what the
 * page replays. Not finding QStash is said, not hidden.
 */
export async function deadLetterOf(deps: Pick<RunDeps, "env">, client: Client, run: RunRow): Promise<{ letter?: DeadLetter; error?: string }> {
  if (!run.message_id) return {};
  try {
    const all = await ourDeadLetters(client, deps.env, run.job);
    return { letter: all.find((m) => m.messageId === run.message_id) };
  } catch (err) {
    return { error: `dead letters not read: ${describeQStashError(err, deps.env.qstash.url)}` };
  }
}

/**
 * "Attempt N of M" as QStash users count: N from 1. M is known for a schedule's deliveries (its
 * retries + 1) and for a dead letter (its maxRetries + 1); a run by hand is one attempt.
 */
export function attemptOf(deps: Pick<RunDeps, "registry">, run: RunRow, letter: DeadLetter | undefined): { n: number; of: number | undefined } {
  const n = run.attempt + 1;
  if (run.trigger !== "qstash") return { n, of: run.trigger === "manual" || run.trigger === "cli" || run.trigger === "vercel" ? 1 : undefined };
  if (letter?.maxRetries !== undefined) return { n, of: letter.maxRetries + 1 };
  const schedule = run.schedule_id ? deps.registry.scheduleOf(run.job) : undefined;
  return { n, of: schedule ? schedule.retries + 1 : undefined };
}

export interface Step {
  at: string | null;
  what: string;
  detail?: string;
  level?: string;
}

/**
 * The run's timeline from what the ledger and the effects recorded, with the run's kept log lines
 * (their own clock). Effect rows carry the run's `now` (its start), not when each page was claimed
 * or settled: the pages come from the kept `effects.page` lines, when the run kept its lines.
 */
export function timelineOf(d: RunDetail): { steps: Step[]; notes: string[] } {
  const { run } = d;
  const steps: Step[] = [{ at: run.started_at, what: "opened", detail: `attempt ${run.attempt + 1}, trigger ${run.trigger}` }];
  for (const b of d.batches) steps.push({ at: b.created_at, what: "batch recorded", detail: `${b.keys.length} effect(s) under ${b.key}` });
  for (const l of run.logs ?? []) steps.push({ at: l.at, what: l.event, detail: l.fields, level: l.level });
  if (run.renewed_at) steps.push({ at: run.renewed_at, what: "lease renewed (last)" });
  if (run.finished_at) steps.push({ at: run.finished_at, what: `closed ${run.status}` });
  steps.sort((a, b) => (a.at ?? "").localeCompare(b.at ?? ""));
  const notes: string[] = [];
  if (d.effects.length) notes.push("Effects' claim and settle times are not recorded apart: their rows carry the run's start time. Pages show as effects.page lines when the run kept its lines.");
  if (!run.logs) notes.push(run.status === "running" ? "The run is still open: its lines are kept when it closes." : run.finished_at ? "No lines kept: the run succeeded without a warning (only warnings and errors, and a failed run's last lines, are kept)." : "No lines kept: the run never closed (its process ended first).");
  if (!run.finished_at && run.status !== "running") notes.push("Not closed by its own process: the ledger recorded it when its lease lapsed.");
  return { steps, notes };
}

/** The causes of an error, outermost first (describeError nests them under `cause`). */
export function causeChain(e: unknown): ErrorShape[] {
  const chain: ErrorShape[] = [];
  let cur = e;
  while (cur && chain.length < 10) {
    // describeError keeps the first cause as "Name: message" text.
    if (typeof cur === "string") {
      const m = /^(\w+): ([\s\S]*)$/.exec(cur);
      chain.push(m ? { name: m[1], message: m[2] } : { message: cur });
      break;
    }
    if (typeof cur !== "object") break;
    chain.push(cur as ErrorShape);
    cur = (cur as ErrorShape).cause;
  }
  return chain;
}
