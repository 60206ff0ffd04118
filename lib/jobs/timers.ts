/**
 * The clock and timers of a run: the lease, the fence and the timeout read these, so a seeded
 * simulation can drive them on a virtual clock (tests/sim). `now` must never go backwards.
 */
export interface Timers {
  /** Milliseconds on a clock that never goes backwards (the lease's fence compares these). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for deadlines the database compares with its clock. */
  wall(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => performance.now(),
  wall: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
