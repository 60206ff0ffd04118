import type { Gate, Hit } from "./app-front";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The ways the year's weather goes wrong; `faulty-zones` is the transport's, the rest the app's or QStash's. */
export type FaultKind = "unavailable" | "no-answer" | "answer-lost" | "doubled" | "down-day" | "faulty-zones";

export interface Stretch {
  kind: "unavailable" | "no-answer" | "down-day" | "doubled";
  from: number;
  to: number;
  /** `doubled`: the jobs whose tick QStash delivers twice (a stale second schedule, 30 s behind). */
  jobs?: string[];
}

/** One window of the year: where the clock runs, the shop's zone, and what goes wrong. */
export interface WindowPlan {
  name: string;
  from: number;
  to: number;
  zone: string;
  faultyZones: boolean;
  stretches: Stretch[];
  /** Share of the app's answers to scheduled ticks that are lost after the run (QStash delivers again). */
  lostAnswers: number;
}

/** mulberry32: a small seeded generator, so a printed seed replays the same weather. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable number in [0, 1) for one delivery attempt: the same seed loses the same answers, whatever the order of concurrent requests. */
export function chance(seed: number, key: string): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return rng(h)();
}

/**
 * The seeded weather of one window: faults fall in [from + 1 h, until), never within an hour of each
 * other, so each slot's outcome has one cause. `until` is an hour before the window's last 06:00
 * UTC, whose keep-alive sweeps the day (as every morning's does), so every slot is decided by then.
 * A window with a day down gets that day and lost answers only: the day leaves no room for more.
 */
export function planFaults(
  w: { name: string; from: number; to: number; zone: string; faultyZones: boolean; downDay?: number },
  jobs: readonly string[],
  random: () => number,
  until: number,
): WindowPlan {
  const stretches: Stretch[] = [];
  const start = w.from + HOUR;
  const free = (a: number, b: number) => stretches.every((s) => b + HOUR <= s.from || a >= s.to + HOUR);
  const place = (kind: Stretch["kind"], minMs: number, maxMs: number, extra: Partial<Stretch> = {}) => {
    for (let tries = 0; tries < 50; tries++) {
      const len = Math.round((minMs + random() * (maxMs - minMs)) / MINUTE) * MINUTE;
      const from = start + Math.floor((random() * Math.max(0, until - start - len)) / MINUTE) * MINUTE;
      if (from + len <= until && free(from, from + len)) return void stretches.push({ kind, from, to: from + len, ...extra });
    }
    throw new Error(`${w.name}: no room for a ${kind} stretch between ${new Date(start).toISOString()} and ${new Date(until).toISOString()}`);
  };
  if (w.downDay !== undefined) {
    stretches.push({ kind: "down-day", from: w.downDay, to: w.downDay + 24 * HOUR });
  } else {
    place("unavailable", 5 * MINUTE, 2 * HOUR);
    place("no-answer", 5 * MINUTE, 2 * HOUR);
    const pool = [...jobs];
    const doubled = Array.from({ length: 2 }, () => pool.splice(Math.floor(random() * pool.length), 1)[0]!);
    place("doubled", 2 * HOUR, 6 * HOUR, { jobs: doubled });
  }
  stretches.sort((a, b) => a.from - b.from);
  return { ...w, stretches, lostAnswers: 0.02 };
}

/** The app's answer at `now` to one request, under the window's weather. */
export function gateOf(plan: WindowPlan, seed: number, now: () => number): (h: Omit<Hit, "gate" | "status">) => Gate {
  return (h) => {
    const t = now();
    const out = plan.stretches.find((s) => s.kind !== "doubled" && s.from <= t && t < s.to);
    if (out) return out.kind === "unavailable" ? "unavailable" : "drop";
    if (h.path.startsWith("/api/cron/") && h.scheduleId && chance(seed, `${plan.name} ${h.path} ${t} ${h.retried}`) < plan.lostAnswers) return "lose-answer";
    return "pass";
  };
}
