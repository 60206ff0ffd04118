import { DateTime } from "luxon";

/** A rendered email: every template returns all three parts. */
export interface Email {
  subject: string;
  text: string;
  html: string;
}

export const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** Plain paragraphs into the one HTML frame all emails share (inline styles: mail clients drop <style>). */
export function htmlFrame(title: string, paragraphs: string[]): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join("\n      ");
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
  <body style="margin:0;padding:24px;background:#f6f7f9;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1f2328">
    <div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px;line-height:1.5">
      ${body}
    </div>
  </body>
</html>`;
}

/**
 * A moment as the recipient reads it, in their own zone (DST included), e.g.
 * "Sunday 25 October 2026 at 10:00 GMT+1 (Europe/Berlin)". An unknown zone falls back to UTC and says so.
 */
export function localTime(at: Date | string, zone: string): { long: string; short: string; zone: string } {
  const instant = typeof at === "string" ? new Date(at) : at;
  const ms = instant.getTime();
  if (Number.isNaN(ms)) return luxonLocalTime(instant, zone);
  // The text shows minutes, and since 1973 every zone's offset is whole minutes: one text per zone
  // and minute (a fan-out's appointments share a few hundred start times).
  const key = ms >= WHOLE_MINUTE_OFFSETS ? `${zone}|${Math.floor(ms / 60_000)}` : undefined;
  let text = key === undefined ? undefined : texts.get(key);
  if (!text) {
    text = fastLocalTime(instant, zone) ?? luxonLocalTime(instant, zone);
    if (key !== undefined) {
      if (texts.size >= 20_000) texts.clear();
      texts.set(key, text);
    }
  }
  return { ...text };
}

// Monrovia kept -0:44:30 until 1972-01-07, the last offset in the zone database with seconds.
const WHOLE_MINUTE_OFFSETS = Date.UTC(1973, 0, 1);
const texts = new Map<string, { long: string; short: string; zone: string }>();

/**
 * The same text from one cached Intl formatter per zone: a fan-out renders thousands of emails,
 * and Luxon asks Intl for the offset and formats token by token on every call (about a sixth of
 * the reminders job's own CPU, bench/README.md). Held to Luxon's text by tests/unit/local-time.property.test.ts;
 * a zone Intl does not take (a fixed offset such as "UTC+3") goes to Luxon.
 */
function fastLocalTime(instant: Date, zone: string): { long: string; short: string; zone: string } | undefined {
  const format = formatterFor(zone);
  if (!format) return undefined;
  const p: Record<string, string> = {};
  for (const part of format.formatToParts(instant)) p[part.type] = part.value;
  const { weekday = "", day = "", month = "", year = "", hour = "", minute = "", timeZoneName = "" } = p;
  const name = /^(utc|gmt)$/i.test(zone) ? "UTC" : zone;
  return {
    long: `${weekday} ${day} ${month} ${year} at ${hour}:${minute} ${timeZoneName} (${name})`,
    short: `${weekday.slice(0, 3)} ${day} ${month.slice(0, 3)}, ${hour}:${minute} ${timeZoneName}`,
    zone: name,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();
function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let format = formatters.get(zone);
  if (format === undefined) {
    try {
      const options = { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" } as const;
      format = new Intl.DateTimeFormat("en-US", { ...options, timeZone: zone });
    } catch {
      format = null;
    }
    if (formatters.size < 5_000) formatters.set(zone, format);
  }
  return format;
}

/** The reference: what Luxon writes (and what an unknown zone or an invalid instant gets). */
export function luxonLocalTime(instant: Date, zone: string): { long: string; short: string; zone: string } {
  let dt = DateTime.fromJSDate(instant, { zone }).setLocale("en-US");
  if (!dt.isValid) dt = DateTime.fromJSDate(instant, { zone: "UTC" }).setLocale("en-US");
  const name = dt.zoneName ?? "UTC";
  const offset = dt.offsetNameShort ?? dt.toFormat("ZZ");
  return {
    long: `${dt.toFormat("cccc d LLLL yyyy 'at' HH:mm")} ${offset} (${name})`,
    short: `${dt.toFormat("ccc d LLL, HH:mm")} ${offset}`,
    zone: name,
  };
}

/** An amount in the currency's smallest unit, as people write it. */
export function money(amountMinor: number, currency: string): string {
  const code = currency.toUpperCase();
  const digits = new Intl.NumberFormat("en-US", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: code }).format(amountMinor / 10 ** digits);
}
