import { Cron } from "croner";
import { DateTime } from "luxon";
import type { Clock, TimerHandle } from "./clock";
import type { Engine, Outcome } from "./engine";
import type { Store } from "./store";
import type { MessageSpec, StoredMessage, StoredSchedule } from "./types";

/** Splits `CRON_TZ=<zone> <5 fields>` and checks both; throws an Error that says what is wrong. */
export function parseCron(text: string): { expr: string; zone?: string } {
  const trimmed = text.trim();
  const m = /^CRON_TZ=(\S+)\s+(.+)$/.exec(trimmed);
  const zone = m?.[1];
  const expr = (m?.[2] ?? trimmed).trim();
  if (zone !== undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
    } catch {
      throw new Error(`invalid cron: unknown time zone "${zone}" in CRON_TZ (use an IANA name such as Europe/Berlin)`);
    }
  }
  try {
    new Cron(expr, { mode: "5-part", paused: true, ...(zone !== undefined && { timezone: zone }) });
  } catch (err) {
    throw new Error(`invalid cron "${expr}": ${(err as Error).message.replace(/^CronPattern: /, "")}`);
  }
  return { expr, ...(zone !== undefined && { zone }) };
}

/**
 * The first tick strictly after `after`, or undefined when the pattern never fires again. With
 * `faultyZones`, CRON_TZ is read as a naive transport reads it: each named wall-clock time fires at
 * every instant the zone shows it, so a time in the hour that does not exist never fires and a
 * time in the hour that happens twice fires twice (the Go cron library behind QStash's syntax
 * skips the former). Off, croner's reading: the missing time at the first valid instant after it,
 * the repeated one once.
 */
export function nextTick(cron: string, after: number, faultyZones = false): number | undefined {
  const { expr, zone } = parseCron(cron);
  if (faultyZones && zone !== undefined) return naiveTick(expr, zone, after);
  const next = new Cron(expr, { mode: "5-part", paused: true, ...(zone !== undefined && { timezone: zone }) }).nextRun(new Date(after));
  return next ? next.getTime() : undefined;
}

const HOUR = 3600_000;
const offsetMs = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).offset * 60_000;

function naiveTick(expr: string, zone: string, after: number): number | undefined {
  const wall = new Cron(expr, { mode: "5-part", timezone: "UTC", paused: true });
  // Wall-clock readings as UTC milliseconds; start early enough to see both readings of a repeated hour.
  let w = wall.nextRun(new Date(after + offsetMs(after, zone) - 3 * HOUR));
  for (let i = 0; w && i < 10_000; i++, w = wall.nextRun(w)) {
    const reading = w.getTime();
    const offsets = new Set([offsetMs(reading - 14 * HOUR, zone), offsetMs(reading + 14 * HOUR, zone)]);
    const instants = [...offsets].map((o) => reading - o).filter((u) => offsetMs(u, zone) === reading - u);
    const next = instants.sort((a, b) => a - b).find((u) => u > after);
    if (next !== undefined) return next;
  }
  return undefined;
}

/** Arms one clock timer per active schedule; each tick publishes a message from the template. */
export class Scheduler {
  readonly #timers = new Map<string, TimerHandle>();
  readonly #o: { store: Store; clock: Clock; engine: Engine; faultyZones?: boolean };

  constructor(o: { store: Store; clock: Clock; engine: Engine; faultyZones?: boolean }) {
    this.#o = o;
    o.engine.onSettled = (msg, outcome) => this.#settled(msg, outcome);
  }

  get #schedules() {
    return this.#o.store.state.schedules;
  }

  /** Ticks missed while the server was down are skipped, as a restarted cron daemon would. */
  start(): void {
    for (const s of Object.values(this.#schedules)) this.#arm(s, this.#o.clock.now());
  }

  stop(): void {
    for (const h of this.#timers.values()) this.#o.clock.clearTimer(h);
    this.#timers.clear();
  }

  upsert(s: StoredSchedule): void {
    this.#disarm(s.scheduleId);
    this.#schedules[s.scheduleId] = s;
    this.#arm(s, this.#o.clock.now());
  }

  delete(id: string): boolean {
    if (!this.#schedules[id]) return false;
    this.#disarm(id);
    delete this.#schedules[id];
    this.#o.store.changed();
    return true;
  }

  setPaused(id: string, paused: boolean): boolean {
    const s = this.#schedules[id];
    if (!s) return false;
    s.isPaused = paused;
    this.#disarm(id);
    this.#arm(s, this.#o.clock.now());
    return true;
  }

  #disarm(id: string) {
    const h = this.#timers.get(id);
    if (h !== undefined) this.#o.clock.clearTimer(h);
    this.#timers.delete(id);
  }

  #arm(s: StoredSchedule, after: number) {
    const next = s.isPaused ? undefined : nextTick(s.cron, after, this.#o.faultyZones);
    if (next === undefined) delete s.nextScheduleTime;
    else s.nextScheduleTime = next;
    this.#o.store.changed();
    if (next === undefined) return;
    this.#timers.set(
      s.scheduleId,
      this.#o.clock.setTimer(next, () => this.#fire(s.scheduleId, next)),
    );
  }

  #fire(id: string, at: number) {
    this.#timers.delete(id);
    const s = this.#schedules[id];
    if (!s || s.isPaused) return;
    s.lastScheduleTime = at;
    s.lastScheduleStates = {};
    for (const spec of this.#targets(s)) {
      const msg = this.#o.engine.create(spec, { notBefore: at + s.delayMs, callerIp: s.callerIp, scheduleId: id });
      s.lastScheduleStates[msg.messageId] = "IN_PROGRESS";
    }
    // A timer late by less than the cron interval loses nothing; a machine that slept through
    // many ticks gets the next one, not a burst of every missed tick.
    this.#arm(s, Math.max(at, this.#o.clock.now()));
  }

  /** One message for a URL; one per endpoint for a URL group, as the group is at the tick (none if it was deleted). */
  #targets(s: StoredSchedule): MessageSpec[] {
    if (s.spec.topicName === undefined) return [s.spec];
    const group = this.#o.store.state.urlGroups[s.spec.topicName];
    return (group?.endpoints ?? []).map((e) => ({ ...s.spec, url: e.url, ...(e.name !== undefined && { endpointName: e.name }) }));
  }

  #settled(msg: StoredMessage, outcome: Outcome) {
    if (msg.kind !== "message" || msg.scheduleId === undefined) return;
    const states = this.#schedules[msg.scheduleId]?.lastScheduleStates;
    if (states?.[msg.messageId] === undefined) return;
    states[msg.messageId] = outcome;
    this.#o.store.changed();
  }
}
