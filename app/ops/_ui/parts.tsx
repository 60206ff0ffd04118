import type { ReactNode } from "react";
import type { Day } from "@/lib/ops/jobs";
import { LocalZone } from "./local-zone";

/** A POST form with the session's CSRF token: every console action is one of these. */
export function ActionForm(props: { action: string; csrf: string; fields?: Record<string, string>; label: string; danger?: boolean }) {
  return (
    <form method="post" action={`/ops/actions/${props.action}`} className="inline">
      <input type="hidden" name="csrf" value={props.csrf} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <button type="submit" className={props.danger ? "danger" : undefined}>
        {props.label}
      </button>
    </form>
  );
}

export function Notice({ notice, error }: { notice?: string; error?: string }) {
  if (error) return <p className="flash bad" role="alert">{error}</p>;
  if (notice) return <p className="flash ok" role="status">{notice}</p>;
  return null;
}

export const ms = (v: unknown) => {
  if (typeof v !== "number") return "–";
  return v < 1000 ? `${v} ms` : v < 120_000 ? `${(v / 1000).toFixed(1)} s` : `${(v / 60_000).toFixed(1)} min`;
};
export const pct = (v: unknown) => (typeof v === "number" ? `${(v * 100).toFixed(v === 1 ? 0 : 1)}%` : "–");
const instant = (v: unknown): Date | undefined => {
  const d = typeof v === "string" || typeof v === "number" || v instanceof Date ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

/** An instant as text, ISO in UTC ("2026-12-07 13:20:54Z"): where only a string will do (titles, notices). */
export const utc = (v: unknown): string => instant(v)?.toISOString().replace("T", " ").slice(0, 19).concat("Z") ?? "–";

/** How long ago (or until) an instant, from the server's clock at render: "3 min ago", "in 2 h". */
export function ago(v: unknown, now = new Date()): string {
  const d = instant(v);
  if (!d) return "–";
  const s = Math.round((d.getTime() - now.getTime()) / 1000);
  const a = Math.abs(s);
  const span = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 172_800 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86_400)} days`;
  return a < 5 ? "now" : s < 0 ? `${span} ago` : `in ${span}`;
}

/**
 * Every date of the console: ISO in UTC in a <time>, how long ago on hover, and the same instant in
 * the viewer's zone beside it (filled in by the browser: the server does not know the zone).
 */
export function when(v: unknown, now?: Date): ReactNode {
  const d = instant(v);
  if (!d) return "–";
  return (
    <span className="when">
      <time dateTime={d.toISOString()} title={ago(d, now)}>{utc(d)}</time>
      <LocalZone iso={d.toISOString()} />
    </span>
  );
}

/** A run's attempt as QStash users count it: the ledger keeps Upstash-Retried (0 = the first delivery). */
export const attemptNo = (retried: unknown) => (typeof retried === "number" ? retried + 1 : 1);

export function Status({ value }: { value: unknown }) {
  const s = typeof value === "string" ? value : "none";
  return <span className={`st st-${s}`}>{s}</span>;
}

/**
 * Seven days of runs as inline SVG bars (failed part in red), one bar a day, oldest left. No chart
 * library: a dozen rects are not worth a client bundle.
 */
export function RunsChart({ days, now }: { days: Day[]; now: Date }) {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const slots = Array.from({ length: 7 }, (_, i) => new Date(now.getTime() - (6 - i) * 86_400_000).toISOString().slice(0, 10));
  const max = Math.max(1, ...days.map((d) => d.runs));
  const w = 10;
  const h = 24;
  return (
    <svg width={7 * (w + 2)} height={h} viewBox={`0 0 ${7 * (w + 2)} ${h}`} role="img" aria-label="runs per day over 7 days, failed in red">
      {slots.map((day, i) => {
        const d = byDay.get(day);
        const total = d ? Math.max(1, Math.round((d.runs / max) * h)) : 0;
        const bad = d && d.failed ? Math.max(1, Math.round((d.failed / max) * h)) : 0;
        return (
          <g key={day}>
            <title>{`${day}: ${d?.runs ?? 0} runs, ${d?.failed ?? 0} failed, p95 ${ms(d?.p95_ms ?? undefined)}`}</title>
            <rect x={i * (w + 2)} y={h - total} width={w} height={total} fill="#4a7" />
            {bad > 0 && <rect x={i * (w + 2)} y={h - bad} width={w} height={bad} fill="#c33" />}
            {!d && <rect x={i * (w + 2)} y={h - 1} width={w} height={1} fill="#bbb" />}
          </g>
        );
      })}
    </svg>
  );
}
