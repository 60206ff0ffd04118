import type { Db } from "../db/types";

/** A job whose last finished run failed; `streak` counts its failures since its last success (capped at 100). */
export interface Failing {
  job: string;
  run_id: string;
  started_at: string;
  /** The ledger's attempt: QStash's Upstash-Retried, 0 for the first delivery. Show it + 1. */
  attempt: number;
  error: { name?: string; message?: string } | null;
  streak: number;
  last_success_at: string | null;
}

export interface Attention {
  failing: Failing[];
  /** Alert incidents not yet closed by their job's next success. */
  incidents: { id: string; job: string; opened_at: string; alerts: number; quiet: number }[];
  /** Dead letters of the last 7 days whose job has not succeeded since, per job. */
  dead_letters: { job: string; n: number; last_at: string }[];
  effects: { job: string; status: "unknown" | "abandoned"; n: number }[];
  /** Slots the watchdog found missed and too old to catch up (7 days), per job. */
  missed: { job: string; n: number; last_slot_at: string }[];
}

/** One line of the overview: what it counts, where the list is, and who it names. */
export interface Item {
  id: string;
  count: number;
  text: string;
  href: string;
  jobs: string[];
}

/** Everything the overview reads beyond the jobs table: one database call. */
export const readAttention = (db: Db, now: Date, jobs: string[]) => db.rpc<Attention>("ops_attention", { p_now: now, p_jobs: jobs });

/** The navigation's count: one small query per page. */
export async function openDeadLetters(db: Db, now: Date): Promise<number> {
  const rows = await db.rpc<Attention["dead_letters"]>("ops_dead_letters_open", { p_now: now });
  return rows.reduce((n, r) => n + Number(r.n), 0);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const sum = (xs: { n: number }[]) => xs.reduce((n, x) => n + Number(x.n), 0);
const names = (xs: { job: string }[]) => [...new Set(xs.map((x) => x.job))];

/** The overview's items, in the order a person should look at them; empty: nothing needs a person. */
export function attentionItems(a: Attention, rows: readonly { job: string; drift: string[] | undefined }[]): Item[] {
  const drifted = rows.filter((r) => r.drift?.length);
  const effect = (status: "unknown" | "abandoned") => a.effects.filter((e) => e.status === status);
  const items: Item[] = [
    { id: "failing", count: a.failing.length, text: `${plural(a.failing.length, "job")} failing`, href: "/ops?filter=failing", jobs: names(a.failing) },
    { id: "incidents", count: a.incidents.length, text: `${plural(a.incidents.length, "open alert incident")}`, href: "/ops?filter=incident", jobs: names(a.incidents) },
    { id: "dead-letters", count: sum(a.dead_letters), text: `${plural(sum(a.dead_letters), "dead letter")} since their job last succeeded`, href: "/ops/dead-letters", jobs: names(a.dead_letters) },
    { id: "unknown", count: sum(effect("unknown")), text: `${plural(sum(effect("unknown")), "effect")} with an unknown outcome`, href: "/ops/effects?status=unknown", jobs: names(effect("unknown")) },
    { id: "abandoned", count: sum(effect("abandoned")), text: `${plural(sum(effect("abandoned")), "effect")} abandoned`, href: "/ops/effects?status=abandoned", jobs: names(effect("abandoned")) },
    { id: "missed", count: sum(a.missed), text: `${plural(sum(a.missed), "missed slot")} (7 days)`, href: "/ops?filter=missed", jobs: names(a.missed) },
    { id: "drifted", count: drifted.length, text: `${plural(drifted.length, "schedule")} drifted from QStash`, href: "/ops?filter=drifted", jobs: names(drifted) },
  ];
  return items.filter((i) => i.count > 0);
}

export interface AttentionEffect {
  key: string;
  job: string;
  subject: string | null;
  status: "unknown" | "abandoned";
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_id: string | null;
  updated_at: string;
}

/** Effects that need a person, newest first (at most `limit`). */
export const effectsNeedingPerson = (db: Db, f: { status?: "unknown" | "abandoned"; job?: string }, limit = 200) =>
  db.rpc<AttentionEffect[]>("ops_effects_attention", { p_status: f.status ?? null, p_job: f.job ?? null, p_limit: limit });
