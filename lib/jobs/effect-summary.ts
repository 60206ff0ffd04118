import type { Db } from "../db/types";

export type EffectStatus = "claimed" | "succeeded" | "failed" | "unknown" | "abandoned";

export interface EffectSummary {
  counts: Partial<Record<EffectStatus, number>>;
  /** Unknown and abandoned effects, newest first: each needs a person to look at the provider. */
  attention: { key: string; status: "unknown" | "abandoned"; attempts: number; last_error: string | null; updated_at: string }[];
  /** When the earliest failed or unknown effect is due again. */
  next_attempt_at: string | null;
}

export const effectSummary = (db: Db, job: string, limit = 10) => db.rpc<EffectSummary>("effects_summary", { p_job: job, p_limit: limit });
