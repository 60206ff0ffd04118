import type { EffectStatus, EffectSummary } from "../jobs/effect-summary";
import { when } from "./format";

const ORDER: EffectStatus[] = ["succeeded", "claimed", "failed", "unknown", "abandoned"];

/** `effects  succeeded 8 · failed 1 (next attempt 2026-11-30 10:42 UTC) · unknown 1`, then one line per effect that needs a person. */
export function describeEffects(s: EffectSummary): string[] {
  const parts = ORDER.filter((k) => s.counts[k]).map((k) => `${k} ${s.counts[k]}${k === "failed" && s.next_attempt_at ? ` (next attempt ${when(s.next_attempt_at)})` : ""}`);
  if (parts.length === 0) return [];
  const lines = [`effects   ${parts.join(" · ")}`];
  for (const a of s.attention) {
    const why = a.status === "unknown" ? "may have happened: check the provider before anyone retries by hand" : "out of attempts: fix the cause, then delete the effect row to retry";
    lines.push(`  needs a person: ${a.key} ${a.status} after ${a.attempts} attempt${a.attempts === 1 ? "" : "s"} (${why})${a.last_error ? `: ${a.last_error}` : ""}`);
  }
  return lines;
}
