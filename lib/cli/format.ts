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

/**
 * One style for every zone: the UTC offset, then the abbreviation where the zone has one
 * ("+01:00 CET", "-05:00 EST", "+05:30 IST", "+09:00"). Intl knows each abbreviation only in the
 * locales that use it (CET in en-GB, IST in en-IN), so each is asked in turn.
 */
export function zoneName(dt: DateTime): string {
  if (dt.zone.name === "UTC" || dt.zoneName === "utc") return "UTC";
  const abbreviation = ABBREVIATION_LOCALES.map((l) => dt.setLocale(l).offsetNameShort).find((n) => n && !/^(GMT|UTC)[+-]/.test(n));
  return abbreviation ? `${dt.toFormat("ZZ")} ${abbreviation}` : dt.toFormat("ZZ");
}
const ABBREVIATION_LOCALES = ["en-US", "en-GB", "en-IN", "en-AU", "en-NZ"];

/** "2026-11-23 14:05 UTC" (or in a zone: "2026-11-23 15:05 +01:00 CET"). */
export function when(at: Date | string | number | null | undefined, zone = "utc"): string {
  if (at === null || at === undefined) return "-";
  const d = typeof at === "string" ? DateTime.fromISO(at) : typeof at === "number" ? DateTime.fromMillis(at) : DateTime.fromJSDate(at);
  if (zone === "utc") return d.setZone(zone).toFormat("yyyy-MM-dd HH:mm 'UTC'");
  const z = d.setZone(zone);
  return `${z.toFormat("yyyy-MM-dd HH:mm")} ${zoneName(z)}`;
}

/** "24h", "90m", "7d", "30s" -> milliseconds; anything else is a usage mistake the caller reports. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d|w)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!.toLowerCase() as "s"]!;
  return Number(m[1]) * unit;
}
