/**
 * The server's sense of time. Everything the server does later (deliveries, retries, schedule
 * ticks, flow-control windows) goes through `setTimer`, so a test can swap in a manual clock and
 * run hours of retries and cron ticks in milliseconds.
 */
export type TimerHandle = number;

export interface Clock {
  /** Milliseconds since the epoch, on this clock. */
  now(): number;
  /** Runs `fn` once the clock reaches `at` (at once if it already has). */
  setTimer(at: number, fn: () => unknown): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /**
   * Real milliseconds to wait for `ms` of clock time where only real waiting will do: the
   * per-attempt HTTP timeout, since a request in flight cannot be fast-forwarded.
   */
  realMs(ms: number): number;
}

/** setTimeout overflows past ~24.8 days and fires at once: long waits are re-armed in steps. */
const MAX_TIMEOUT = 2 ** 31 - 1;

function report(err: unknown) {
  console.error(`qstash: timer task failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}

function wallTimers(now: () => number, toReal: (ms: number) => number) {
  const timers = new Map<TimerHandle, NodeJS.Timeout>();
  let next = 0;
  function arm(id: TimerHandle, at: number, fn: () => unknown) {
    const wait = Math.min(MAX_TIMEOUT, Math.max(0, toReal(at - now())));
    const t = setTimeout(() => {
      // Long waits come back early by design; short ones can too, by a millisecond of rounding.
      if (now() < at) return arm(id, at, fn);
      timers.delete(id);
      Promise.resolve()
        .then(fn)
        .catch(report);
    }, wait);
    t.unref();
    timers.set(id, t);
  }
  return {
    setTimer(at: number, fn: () => unknown): TimerHandle {
      const id = ++next;
      arm(id, at, fn);
      return id;
    },
    clearTimer(handle: TimerHandle) {
      clearTimeout(timers.get(handle));
      timers.delete(handle);
    },
  };
}

/** Wall-clock time. */
export function realClock(): Clock {
  const now = () => Date.now();
  return { now, realMs: (ms) => ms, ...wallTimers(now, (ms) => ms) };
}

/**
 * Wall-clock time running `scale` times faster from `start` (default: now). With scale 60 an
 * every-minute schedule fires every real second; per-attempt timeouts shrink by the same factor.
 */
export function scaledClock(scale: number, start = Date.now()): Clock {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`time scale must be a positive number, got ${scale}`);
  const t0 = Date.now();
  const now = () => Math.floor(start + (Date.now() - t0) * scale);
  const toReal = (ms: number) => Math.ceil(ms / scale);
  return { now, realMs: toReal, ...wallTimers(now, toReal) };
}

interface ManualTimer {
  at: number;
  id: TimerHandle;
  fn: () => unknown;
}

/**
 * Time that moves only when told. `advance(ms)` fires, in time order, every timer that falls due
 * on the way (including those that the fired work arms), and resolves once all of that work,
 * HTTP deliveries included, has finished. Timers already due fire on their own right away, so a
 * message published with no delay is delivered without advancing; `settle()` waits for it.
 */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<TimerHandle, ManualTimer>();
  #inflight = new Set<Promise<void>>();
  #next = 0;
  #kicked = false;

  constructor(start: number | Date = Date.now()) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  realMs(ms: number): number {
    return ms;
  }

  setTimer(at: number, fn: () => unknown): TimerHandle {
    const id = ++this.#next;
    this.#timers.set(id, { at, id, fn });
    if (at <= this.#now) this.#kick();
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Moves time forward by `ms` and waits for everything that became due to finish. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`advance() takes a non-negative number of milliseconds, got ${ms}`);
    const target = this.#now + ms;
    for (;;) {
      await this.#drain();
      const next = this.#earliest(target);
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
    }
    this.#now = target;
  }

  /** Sets the time (forward only), firing what falls due on the way. */
  async advanceTo(time: number | Date): Promise<void> {
    const t = typeof time === "number" ? time : time.getTime();
    await this.advance(Math.max(0, t - this.#now));
  }

  /** Waits until nothing is due and nothing is running. */
  settle(): Promise<void> {
    return this.advance(0);
  }

  /** Timers armed and not yet fired (for tests that check nothing is left behind). */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  #earliest(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }

  #kick() {
    if (this.#kicked) return;
    this.#kicked = true;
    setImmediate(() => {
      this.#kicked = false;
      this.#fireDue();
    });
  }

  #fireDue() {
    for (let t = this.#earliest(this.#now); t; t = this.#earliest(this.#now)) {
      this.#timers.delete(t.id);
      const p: Promise<void> = Promise.resolve()
        .then(t.fn)
        .then(() => undefined, report)
        .finally(() => this.#inflight.delete(p));
      this.#inflight.add(p);
    }
  }

  async #drain() {
    for (;;) {
      this.#fireDue();
      if (this.#inflight.size > 0) {
        await Promise.allSettled([...this.#inflight]);
        continue;
      }
      // One macrotask turn lets I/O callbacks and setImmediate work start before calling it idle.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#inflight.size === 0 && !this.#earliest(this.#now)) return;
    }
  }
}

export function manualClock(start?: number | Date): ManualClock {
  return new ManualClock(start);
}
