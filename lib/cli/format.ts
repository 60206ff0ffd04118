import { DateTime } from "luxon";

/** A job's stats as one line: `{ sent: 8, failed: 0 }` -> `sent 8, failed 0`. */
export function statsLine(stats: Record<string, unknown> | null | undefined): string {
  const entries = Object.entries(stats ?? {});
  if (entries.length === 0) return "no stats";
  return entries.map(([k, v]) => `${k} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`).join(", ");
}

/** 950 -> "950 ms", 1234 -> "1.2 s", 125000 -> "2m 5s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return m < 60 ? `${m}m ${s}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export const percent = (ratio: number | null | undefined) => (ratio === null || ratio === undefined ? "-" : `${(ratio * 100).toFixed(ratio === 1 || ratio === 0 ? 0 : 1)}%`);

export const count = (n: number) => n.toLocaleString("en-US");

/** "2026-11-23 14:05 UTC" (or in a zone: "2026-11-23 15:05 GMT+1"). */
export function when(at: Date | string | number | null | undefined, zone = "utc"): string {
  if (at === null || at === undefined) return "-";
  const d = typeof at === "string" ? DateTime.fromISO(at) : typeof at === "number" ? DateTime.fromMillis(at) : DateTime.fromJSDate(at);
  return d.setZone(zone).toFormat(zone === "utc" ? "yyyy-MM-dd HH:mm 'UTC'" : "yyyy-MM-dd HH:mm ZZZZ");
}

/** "24h", "90m", "7d", "30s" -> milliseconds; anything else is a usage mistake the caller reports. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d|w)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!.toLowerCase() as "s"]!;
  return Number(m[1]) * unit;
}
