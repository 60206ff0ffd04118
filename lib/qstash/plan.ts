import type { Schedule as QStashSchedule } from "@upstash/qstash";
import { TIMEOUT_HEADER, type DesiredSchedule } from "./desired";
import { isOurs, isUnder } from "./expected";

export type { QStashSchedule };

export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

export type PlanItem =
  | { action: "create"; scheduleId: string; job: string; desired: DesiredSchedule }
  | { action: "update"; scheduleId: string; job: string; desired: DesiredSchedule; current: QStashSchedule; changes: FieldChange[] }
  | { action: "unchanged"; scheduleId: string; job: string; desired: DesiredSchedule; current: QStashSchedule }
  | { action: "delete"; scheduleId: string; job: string; current: QStashSchedule };

export interface Plan {
  /** Creates, updates, deletes, then unchanged, each sorted by id. */
  items: PlanItem[];
  /** Schedules without our prefix: never touched. */
  foreign: QStashSchedule[];
  /** Ours by prefix and gone from the registry, but delivering outside APP_URL: left alone, see why. */
  kept: { current: QStashSchedule; reason: string }[];
  /** Updates that move a schedule from another host to APP_URL: two environments sharing a prefix look like this. */
  warnings: string[];
}

export const changesOf = (plan: Plan) => plan.items.filter((i) => i.action !== "unchanged");
export const countOf = (plan: Plan, action: PlanItem["action"]) => plan.items.filter((i) => i.action === action).length;

const NONE = "(none)";
const normCron = (c: string) => c.trim().replace(/\s+/g, " ");

function headerValue(s: QStashSchedule, name: string): string | undefined {
  const key = Object.keys(s.header ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : s.header?.[key]?.[0];
}

function bodyOf(s: QStashSchedule): string {
  if (s.body !== undefined) return s.body;
  return s.bodyBase64 ? Buffer.from(s.bodyBase64, "base64").toString("utf8") : "";
}

/**
 * What differs between what we want and what QStash holds, in the fields we set, plus the fields
 * we never set (a create is a full replace, so applying would clear a hand-made callback or delay:
 * the plan must say so rather than do it silently).
 */
export function diffSchedule(d: DesiredSchedule, s: QStashSchedule): FieldChange[] {
  const pairs: [string, string, string][] = [
    ["destination", s.destination, d.destination],
    ["cron", normCron(s.cron), normCron(d.cron)],
    ["method", s.method || "POST", d.method],
    ["retries", String(s.retries), String(d.retries)],
    ["timeout", withUnit(timeoutOf(s)), withUnit(String(d.timeoutSeconds))],
    ["body", bodyOf(s) || NONE, d.body || NONE],
    ["failureCallback", s.failureCallback || NONE, d.failureCallback],
    ["callback", s.callback || NONE, NONE],
    ["delay", s.delay ? `${s.delay}s` : NONE, NONE],
    ["queue", s.queueName || NONE, NONE],
    ["flowControlKey", s.flowControlKey || NONE, NONE],
    ["retryDelay", s.retryDelayExpression || NONE, NONE],
  ];
  return pairs.filter(([, from, to]) => from !== to).map(([field, from, to]) => ({ field, from, to }));
}

/** Our header first (cloud QStash does not list the timeout); a `timeout` field where a server lists one. */
function timeoutOf(s: QStashSchedule): string | undefined {
  const listed = (s as QStashSchedule & { timeout?: unknown }).timeout;
  return headerValue(s, TIMEOUT_HEADER) ?? (typeof listed === "number" && listed > 0 ? String(listed) : undefined);
}

const withUnit = (v: string | undefined) => (v === undefined ? "(not recorded)" : `${v}s`);

const origin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
};

/** Reconciles the registry's schedules with a listing of the whole account. Pure. */
export function planSchedules(desired: readonly DesiredSchedule[], listed: readonly QStashSchedule[], opts: { prefix: string; appUrl: string }): Plan {
  const byId = new Map(listed.map((s) => [s.scheduleId, s]));
  const wanted = new Set(desired.map((d) => d.scheduleId));
  const items: PlanItem[] = [];
  for (const d of desired) {
    const current = byId.get(d.scheduleId);
    if (!current) {
      items.push({ action: "create", scheduleId: d.scheduleId, job: d.job, desired: d });
      continue;
    }
    const changes = diffSchedule(d, current);
    items.push(changes.length ? { action: "update", scheduleId: d.scheduleId, job: d.job, desired: d, current, changes } : { action: "unchanged", scheduleId: d.scheduleId, job: d.job, desired: d, current });
  }
  const foreign: QStashSchedule[] = [];
  const kept: Plan["kept"] = [];
  for (const s of listed) {
    if (!isOurs(opts.prefix, s.scheduleId)) {
      foreign.push(s);
    } else if (!wanted.has(s.scheduleId)) {
      if (isUnder(s.destination, opts.appUrl)) items.push({ action: "delete", scheduleId: s.scheduleId, job: s.scheduleId.slice(opts.prefix.length + 1), current: s });
      else kept.push({ current: s, reason: `not deleted: it delivers to ${s.destination}, outside APP_URL ${opts.appUrl} (another environment whose prefix starts with "${opts.prefix}-"?). Remove it with pnpm qstash:cleanup run with that environment's APP_URL, or in the Upstash console.` });
    }
  }
  const warnings = items.flatMap((i) =>
    i.action === "update" && !isUnder(i.current.destination, opts.appUrl) && origin(i.current.destination) !== origin(opts.appUrl)
      ? [`${i.scheduleId} now delivers to ${i.current.destination}, another host than APP_URL ${opts.appUrl}: if another environment uses SCHEDULE_PREFIX "${opts.prefix}", give each its own prefix before applying.`]
      : [],
  );
  const order = { create: 0, update: 1, delete: 2, unchanged: 3 };
  items.sort((a, b) => order[a.action] - order[b.action] || a.scheduleId.localeCompare(b.scheduleId));
  return { items, foreign, kept, warnings };
}
