import type { JobRow } from "./jobs";

/**
 * The jobs table's sort and filters, read from and written back to the URL (so a link, a reload
 * or the back button keeps them). Rows are the registry's jobs, a few dozen: sorted here, after
 * the two ledger calls, not in SQL.
 */
export const SORTS = ["job", "product", "last", "success", "next"] as const;
export const STATUS_FILTERS = ["failing", "ok", "never"] as const;
export const STATE_FILTERS = ["paused", "drifted", "incident", "missed"] as const;

export type Sort = (typeof SORTS)[number];
export interface View {
  sort: Sort;
  dir: "asc" | "desc";
  product: string | undefined;
  status: (typeof STATUS_FILTERS)[number] | undefined;
  state: (typeof STATE_FILTERS)[number] | undefined;
}

const pick = <T extends string>(list: readonly T[], v: string | undefined): T | undefined => (list as readonly string[]).includes(v ?? "") ? (v as T) : undefined;

/** Unknown values are dropped, never an error: a stale link still opens the table. `filter` is the overview's short form. */
export function readView(q: Record<string, string | undefined>): View {
  const sort = pick(SORTS, q.sort) ?? "job";
  return {
    sort,
    dir: q.dir === "desc" ? "desc" : q.dir === "asc" ? "asc" : sort === "last" ? "desc" : "asc",
    product: q.product || undefined,
    status: pick(STATUS_FILTERS, q.status) ?? pick(STATUS_FILTERS, q.filter),
    state: pick(STATE_FILTERS, q.state) ?? pick(STATE_FILTERS, q.filter),
  };
}

/** The URL of the table with `change` applied to the current view (defaults left out). */
export function viewHref(v: View, change: Partial<View>): string {
  const next = { ...v, ...change };
  const p = new URLSearchParams();
  if (next.product) p.set("product", next.product);
  if (next.status) p.set("status", next.status);
  if (next.state) p.set("state", next.state);
  if (next.sort !== "job") p.set("sort", next.sort);
  if (next.dir !== (next.sort === "last" ? "desc" : "asc")) p.set("dir", next.dir);
  const s = p.toString();
  return s ? `/ops?${s}#jobs` : "/ops#jobs";
}

export const statusOf = (r: JobRow): View["status"] => (r.failing ? "failing" : r.last ? "ok" : "never");
/** A paused schedule has no next run. */
export const nextRunOf = (r: JobRow): Date | undefined => (r.paused ? undefined : r.schedule?.next);

function matches(r: JobRow, v: View): boolean {
  if (v.product && r.product !== v.product) return false;
  if (v.status && statusOf(r) !== v.status) return false;
  if (v.state === "paused") return r.paused === true;
  if (v.state === "drifted") return (r.drift?.length ?? 0) > 0;
  if (v.state === "incident") return r.incident;
  if (v.state === "missed") return r.missed > 0;
  return true;
}

const key = (r: JobRow, s: Sort): string | number | undefined => {
  if (s === "job") return r.job;
  if (s === "product") return `${r.product}\u0000${r.job}`;
  if (s === "last") return r.last ? Date.parse(r.last.started_at) : undefined;
  if (s === "success") return r.windows["7d"]?.success_rate ?? undefined;
  return nextRunOf(r)?.getTime();
};

/** Filtered and sorted; rows without a value (never ran, no next run) go last in either direction. */
export function viewRows(rows: readonly JobRow[], v: View): JobRow[] {
  const sign = v.dir === "desc" ? -1 : 1;
  return rows
    .filter((r) => matches(r, v))
    .sort((a, b) => {
      const x = key(a, v.sort);
      const y = key(b, v.sort);
      if (x === undefined || y === undefined) return x === y ? a.job.localeCompare(b.job) : x === undefined ? 1 : -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return c === 0 ? a.job.localeCompare(b.job) : sign * c;
    });
}
