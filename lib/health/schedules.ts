import { expectedSchedules, isOurs, type ExpectedSchedule } from "../qstash/expected";
import type { Component } from "./component";
import type { LiveSchedule } from "./types";

export interface Drift {
  scheduleId: string;
  field: "destination" | "cron" | "paused";
  expected: string;
  actual: string;
}

export interface ScheduleComparison {
  missing: string[];
  drifted: Drift[];
  /** Ids with our prefix that the registry no longer has: they still fire. */
  extra: string[];
  matching: number;
}

const sameCron = (a: string, b: string) => a.trim().replace(/\s+/g, " ") === b.trim().replace(/\s+/g, " ");

/**
 * The registry against QStash. Only ids with our prefix are ours: other environments and other
 * apps share the QStash account, and their schedules are none of our business.
 */
export function compareSchedules(expected: readonly ExpectedSchedule[], live: readonly LiveSchedule[], prefix: string): ScheduleComparison {
  const byId = new Map(live.map((s) => [s.scheduleId, s]));
  const wanted = new Set(expected.map((e) => e.scheduleId));
  const out: ScheduleComparison = { missing: [], drifted: [], extra: [], matching: 0 };
  for (const e of expected) {
    const l = byId.get(e.scheduleId);
    if (!l) {
      out.missing.push(e.scheduleId);
      continue;
    }
    const before = out.drifted.length;
    if (l.destination !== e.destination) out.drifted.push({ scheduleId: e.scheduleId, field: "destination", expected: e.destination, actual: l.destination });
    if (!sameCron(l.cron, e.cron)) out.drifted.push({ scheduleId: e.scheduleId, field: "cron", expected: e.cron, actual: l.cron });
    // A paused schedule matches on paper and never fires.
    if (l.isPaused) out.drifted.push({ scheduleId: e.scheduleId, field: "paused", expected: "active", actual: "paused" });
    if (out.drifted.length === before) out.matching++;
  }
  for (const l of live) if (isOurs(prefix, l.scheduleId) && !wanted.has(l.scheduleId)) out.extra.push(l.scheduleId);
  return out;
}

export function describeComparison(c: ScheduleComparison, prefix: string): string {
  const parts: string[] = [];
  if (c.missing.length) parts.push(`missing in QStash: ${c.missing.join(", ")}`);
  for (const d of c.drifted) parts.push(`${d.scheduleId} drifted: ${d.field} is ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)}`);
  if (c.extra.length) parts.push(`in QStash with prefix "${prefix}-" but not in config/qstash.ts: ${c.extra.join(", ")}`);
  return parts.join("; ");
}

/** The wiring: QStash holds exactly the schedules config/qstash.ts declares, pointed at this app. */
export const schedules: Component = {
  name: "schedules",
  async check({ deps, liveSchedules }) {
    const { env, registry } = deps;
    const expected = expectedSchedules(registry, env);
    const c = compareSchedules(expected, await liveSchedules(), env.schedulePrefix);
    const details = { prefix: env.schedulePrefix, expected: expected.length, ...c };
    if (!c.missing.length && !c.drifted.length && !c.extra.length) {
      return { status: "ok", message: `all ${expected.length} schedules with prefix "${env.schedulePrefix}-" match config/qstash.ts`, details };
    }
    return { status: "degraded", message: `${describeComparison(c, env.schedulePrefix)}. Run pnpm qstash:schedule to reconcile.`, details };
  },
  advice() {
    return "The schedules could not be read from QStash: see the qstash component.";
  },
};
