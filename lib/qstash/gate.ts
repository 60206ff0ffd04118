/** The gate's time: real in a process, virtual in tests (which then assert when runs start, not how long they took). */
export interface GateClock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realGateClock: GateClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const done = () => (clearTimeout(t), signal.removeEventListener("abort", abort));
      const abort = () => (done(), reject(signal.reason as Error));
      // setTimeout takes at most 2^31-1 ms (24.8 days); longer would fire at once.
      const t = setTimeout(() => (done(), resolve()), Math.min(ms, 2 ** 31 - 1));
      signal.addEventListener("abort", abort, { once: true });
    }),
};

/**
 * QStash flow control for runs in one process: starts spaced `intervalMs` apart (period / rate, so
 * never more than `rate` in any period) and at most `parallelism` running at once.
 */
export class Gate {
  private intervalMs = 0;
  private parallelism = Infinity;
  private next = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly clock: GateClock) {}

  configure(o: { intervalMs: number; parallelism: number }): void {
    this.intervalMs = o.intervalMs;
    this.parallelism = o.parallelism;
  }

  /** Waits for a place and the next start time; the answer frees the place. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    while (this.running >= this.parallelism) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      // Woken after the signal aborted: pass the wake-up on, so every waiter ends.
      if (signal.aborted) this.waiting.shift()?.();
    }
    this.running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.();
    };
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    try {
      signal.throwIfAborted();
      if (at > now) await this.clock.sleep(at - now, signal);
      signal.throwIfAborted();
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }
}
