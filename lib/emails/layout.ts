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
  let dt = DateTime.fromJSDate(instant, { zone }).setLocale("en-US");
  if (!dt.isValid) dt = DateTime.fromJSDate(instant, { zone: "UTC" }).setLocale("en-US");
  const name = dt.zoneName ?? "UTC";
  const offset = offsetName(dt);
  return {
    long: `${dt.toFormat("cccc d LLLL yyyy 'at' HH:mm")} ${offset} (${name})`,
    short: `${dt.toFormat("ccc d LLL, HH:mm")} ${offset}`,
    zone: name,
  };
}

// "GMT+1", "EST": a zone has few offsets, and asking Intl for the name costs ~0.1 ms each time.
const offsetNames = new Map<string, string>();
function offsetName(dt: DateTime): string {
  const key = `${dt.zoneName}|${dt.offset}`;
  let name = offsetNames.get(key);
  if (name === undefined) {
    name = dt.offsetNameShort ?? dt.toFormat("ZZ");
    if (offsetNames.size < 5_000) offsetNames.set(key, name);
  }
  return name;
}

/** An amount in the currency's smallest unit, as people write it. */
export function money(amountMinor: number, currency: string): string {
  const code = currency.toUpperCase();
  const digits = new Intl.NumberFormat("en-US", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: code }).format(amountMinor / 10 ** digits);
}
