import type { Timers } from "../../lib/jobs/timers";

/**
 * The simulated world: a virtual clock, processes, and the steps they wait on. Every await point
 * of the code under test that touches the outside (a database call, a provider call, a timer, a
 * QStash publish) is a step; the world runs one step at a time, in the order `choose` picks, and
 * lets every other promise settle in between, so a schedule is a list of choices that replays
 * exactly. fast-check draws the choices, shrinks a failing list and prints it to replay.
 */
export interface Proc {
  name: string;
  dead: boolean;
}

interface Step {
  label: string;
  proc: Proc;
  act: () => Promise<void> | void;
}

interface Timer {
  id: number;
  at: number;
  proc: Proc;
  fn: () => void;
}

export class World {
  t: number;
  private steps: Step[] = [];
  private timers: Timer[] = [];
  private nextTimer = 1;
  readonly trace: string[] = [];

  constructor(
    start: number,
    /** Picks one of n possible next steps (fast-check's choice, shrinkable). */
    private readonly choose: (n: number) => number,
    /** Whether the clock moves now although steps wait: how slow the world is. */
    private readonly stall: () => boolean = () => false,
  ) {
    this.t = start;
  }

  spawn(name: string): Proc {
    return { name, dead: false };
  }

  /** Waits until the world picks this step; `act` runs then (a real database call runs to its end inside it). */
  point<T = void>(proc: Proc, label: string, act?: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.steps.push({
        label,
        proc,
        act: async () => {
          try {
            resolve(act ? await act() : (undefined as T));
          } catch (err) {
            reject(err);
          }
        },
      });
    });
  }

  /** A process that dies: its waits never end and its timers never fire, as after kill -9. */
  crash(proc: Proc) {
    proc.dead = true;
    this.trace.push(`${this.t} crash ${proc.name}`);
  }

  timersFor(proc: Proc): Timers {
    return {
      now: () => this.t,
      wall: () => this.t,
      setTimeout: (fn, ms) => {
        const timer = { id: this.nextTimer++, at: this.t + Math.max(0, ms), proc, fn };
        this.timers.push(timer);
        return timer.id;
      },
      clearTimeout: (id) => {
        this.timers = this.timers.filter((x) => x.id !== id);
      },
    };
  }

  /**
   * Runs steps until none is left, `done()` holds, or `maxSteps` ran. The clock moves only to fire
   * a timer, and may do so while steps wait (a slow database, a slow provider) unless `prompt`.
   */
  async run(opts: { maxSteps: number; until?: number; done?: () => boolean; prompt?: boolean }): Promise<number> {
    let n = 0;
    for (; n < opts.maxSteps; n++) {
      await settle();
      this.steps = this.steps.filter((s) => !s.proc.dead);
      this.timers = this.timers.filter((x) => !x.proc.dead);
      if (opts.done?.()) break;
      // Prompt: no step waits while the clock moves (nothing is slow).
      const due = opts.prompt && this.steps.length ? [] : this.timers.filter((x) => opts.until === undefined || x.at <= opts.until);
      if (!this.steps.length && !due.length) break;
      const i = due.length && (!this.steps.length || this.stall()) ? this.steps.length : this.choose(this.steps.length);
      if (i < this.steps.length) {
        const [step] = this.steps.splice(i, 1);
        this.trace.push(`${this.t} ${step!.proc.name} ${step!.label}`);
        await step!.act();
      } else {
        // The clock moves to the next timer only: nothing happens in between.
        const next = due.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.id < a.id) ? b : a));
        this.timers = this.timers.filter((x) => x !== next);
        this.t = Math.max(this.t, next.at);
        this.trace.push(`${this.t} ${next.proc.name} timer`);
        next.fn();
      }
    }
    await settle();
    return n;
  }
}

/** Lets every promise reaction that is ready run: the microtask queue drains before a macrotask. */
async function settle() {
  await new Promise<void>((r) => setImmediate(r));
}
