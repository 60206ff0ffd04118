"use client";
import { useSyncExternalStore } from "react";

const never = () => () => {};

/** The instant in the viewer's zone ("" in UTC, where the ISO time already says it). */
function local(iso: string): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const d = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "longOffset" })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  const offset = (parts.timeZoneName ?? "").replace(/^GMT/, "");
  if (/^([+-]00:00)?$/.test(offset)) return ""; // the viewer is on UTC: the ISO time already says it
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return `${date === iso.slice(0, 10) ? "" : `${date} `}${parts.hour}:${parts.minute} ${offset} ${zone}`;
}

/**
 * The viewer's zone is known only in the browser: the server (and hydration) render nothing here,
 * then the browser's snapshot fills it in, so the server's HTML and the first client render agree.
 */
export function LocalZone({ iso }: { iso: string }) {
  const text = useSyncExternalStore(never, () => local(iso), () => "");
  return text ? <span className="tz">{text}</span> : null;
}
