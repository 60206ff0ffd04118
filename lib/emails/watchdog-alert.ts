import type { WatchdogFindings } from "@/lib/jobs/watchdog";
import { escapeHtml, type Email } from "./layout";

/** `2026-11-23T06:00:00Z`: exact, sortable, and the same in every reader's zone. */
export const stamp = (d: Date | string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
/** Per job, the slots listed one by one; a minutely job down all day would otherwise list 1,430. */
export const LISTED_SLOTS = 24;

function slotList(slots: readonly Date[]): string {
  if (slots.length <= LISTED_SLOTS) return slots.map(stamp).join(", ");
  const shown = slots.slice(0, LISTED_SLOTS).map(stamp).join(", ");
  return `${shown} … and ${slots.length - LISTED_SLOTS} more, the last at ${stamp(slots[slots.length - 1]!)}`;
}
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The watchdog's one alert: every finding, grouped, one line each. `other` holds what keep-alive
 * itself found (QStash unreachable, schedules missing or paused, Redis, calendar tokens).
 */
export function watchdogAlert(f: WatchdogFindings, other: string[]): Email {
  const missed = f.missed.reduce((n, m) => n + m.slots.length, 0);
  const counts = [
    missed && `${missed} missed run${missed === 1 ? "" : "s"}`,
    f.failures.length && `${f.failures.length} failed`,
    f.slow.length && `${f.slow.length} slow`,
    f.partial.length && `${f.partial.length} with failed items`,
    other.length && `${other.length} other problem${other.length === 1 ? "" : "s"}`,
  ].filter(Boolean);
  const subject = `[cronlayer] watchdog: ${counts.join(", ")}`;
  const sections: [string, string[]][] = [
    ["Missed runs (a slot with no run recorded)", f.missed.map((m) => `${m.job}: ${m.slots.length} missed: ${slotList(m.slots)}`)],
    [
      "Failed runs (no attempt of the delivery succeeded)",
      f.failures.map((x) => `${x.job} at ${stamp(x.started_at)}${x.slot_at ? ` (slot ${stamp(x.slot_at)})` : ""}, attempt ${x.attempt}, run ${x.run_id}: ${x.error?.name ?? "Error"}: ${x.error?.message ?? "no message"}`),
    ],
    ["Slow runs (far beyond the job's usual duration)", f.slow.map((x) => `${x.job} at ${stamp(x.started_at)} took ${seconds(x.duration_ms)} (usual ${seconds(x.median_ms)}), run ${x.run_id}`)],
    ["Runs with failed items (left for the next run)", f.partial.map((x) => `${x.job} at ${stamp(x.started_at)}: ${x.failed} failed, run ${x.run_id}`)],
    ["Other problems", other],
  ];
  const present = sections.filter(([, lines]) => lines.length);
  const intro = `Watchdog over the scheduled jobs from ${stamp(f.from)} to ${stamp(f.to)} (${f.jobs} jobs, ${f.expectedSlots} slots expected).`;
  const text = [intro, "", ...present.flatMap(([title, lines]) => [`${title}:`, ...lines.map((l) => `- ${l}`), ""]), "The ledger (job_runs) has every run; pnpm qstash:stats shows them per job."].join("\n");
  const html = `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328">
<p>${escapeHtml(intro)}</p>
${present.map(([title, lines]) => `<h3 style="margin:16px 0 4px">${escapeHtml(title)}</h3><ul>${lines.map((l) => `<li><code>${escapeHtml(l)}</code></li>`).join("")}</ul>`).join("\n")}
<p>The ledger (job_runs) has every run; <code>pnpm qstash:stats</code> shows them per job.</p>
</body></html>`;
  return { subject, text, html };
}
