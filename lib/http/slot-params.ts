import type { Registry } from "../jobs/registry";
import { slotOf } from "../jobs/schedules";
import { SLOT_TRIGGERS, slotQuery, type SlotTrigger } from "../qstash/slot-runs";

/** The `slot` and `trigger` of a request's query, as given (null when absent). */
export interface SlotQuery {
  slot: string | null;
  trigger: string | null;
}

/** The request's slot parameters, or undefined when it names neither (every tick and message but slot runs). */
export function slotQueryOf(req: Request): SlotQuery | undefined {
  const q = new URL(req.url).searchParams;
  if (!q.has("slot") && !q.has("trigger")) return undefined;
  return { slot: q.get("slot"), trigger: q.get("trigger") };
}

/**
 * The URL QStash signed for this request: the public route, plus the slot parameters exactly as
 * `publishSlotRun` wrote them. Rebuilt from those two alone, so a query parameter added on the
 * way (a proxy's, the platform's) cannot break a signature, and one that was not signed has no say.
 */
export function signedUrl(route: string, query: SlotQuery | undefined): string {
  if (!query) return route;
  if (query.slot !== null && query.trigger !== null) return `${route}${slotQuery(query.slot, query.trigger)}`;
  // One of the two: signed as sent, so the refusal can say which is missing.
  const [name, value] = query.slot !== null ? ["slot", query.slot] : ["trigger", query.trigger ?? ""];
  return `${route}?${name}=${encodeURIComponent(value)}`;
}

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,3})?)?(?:Z|[+-]\d\d:\d\d)$/;

export type SlotCheck = { ok: true; trigger: SlotTrigger; slotAt: Date } | { ok: false; error: string };

/**
 * A slot run's parameters, checked after the signature: only for a scheduled job, only the triggers
 * `catch-up` and `backfill`, and a slot that is one of the schedule's ticks (in its zone), so the
 * ledger records a slot the schedule really has. Every refusal says what to fix; none improves
 * with a retry.
 */
export function checkSlot(registry: Registry, job: string, query: SlotQuery): SlotCheck {
  const schedule = registry.scheduleOf(job);
  if (!schedule) return { ok: false, error: `${job} has no schedule, so it has no slots: slot and trigger are only for scheduled jobs` };
  if (!(SLOT_TRIGGERS as readonly (string | null)[]).includes(query.trigger)) {
    return { ok: false, error: `trigger must be one of ${SLOT_TRIGGERS.join(", ")} with a slot, got ${query.trigger === null ? "none" : JSON.stringify(query.trigger)}` };
  }
  const slot = query.slot ?? "";
  const slotAt = new Date(slot);
  if (!ISO_INSTANT.test(slot) || Number.isNaN(slotAt.getTime())) {
    return { ok: false, error: `slot must be an ISO 8601 instant such as 2026-12-01T06:00:00.000Z, got ${query.slot === null ? "none" : JSON.stringify(slot)}` };
  }
  const tick = slotOf(schedule, slotAt);
  if (tick?.getTime() !== slotAt.getTime()) {
    const near = tick ? ` (the tick at or before it is ${tick.toISOString()})` : "";
    return { ok: false, error: `slot ${slotAt.toISOString()} is not a tick of ${job}'s schedule "${schedule.expression}" (${schedule.timezone})${near}` };
  }
  return { ok: true, trigger: query.trigger as SlotTrigger, slotAt };
}
