import type { FlowAdmin, FlowSpec, StoredMessage, StoredQueue } from "./types";

export interface FlowState {
  active: number;
  windowStart: number;
  started: number;
  /** The latest message's settings win, as on QStash (unless pinned). */
  spec: FlowSpec;
}

/** The settings in force for a key: a pin overrides what the messages ask for. */
export function effectiveFlow(f: FlowState, admin: FlowAdmin | undefined): { parallelism?: number; rate?: number; period: number } {
  const pin = admin?.pin ?? {};
  return {
    parallelism: pin.parallelism ?? f.spec.parallelism,
    rate: pin.rate ?? f.spec.rate,
    period: pin.period ?? f.spec.period,
  };
}

/**
 * Who may start an attempt now: queues (FIFO, `parallelism` at a time, none while paused) and
 * flow-control keys (parallelism, and a rate per period counted in fixed windows from the first
 * start; none while paused). Queue and admin settings are read live from the state, so an upsert,
 * pause or pin applies to the next pump.
 */
export class Gates {
  #queues = new Map<string, number>();
  readonly flows = new Map<string, FlowState>();

  constructor(
    private readonly queueOf: (name: string) => StoredQueue | undefined,
    private readonly adminOf: (key: string) => FlowAdmin | undefined,
  ) {}

  /** Called when a message with flow control is created, so its settings take effect; true when they changed. */
  configure(spec: FlowSpec): boolean {
    const f = this.flows.get(spec.key);
    if (!f) {
      this.flows.set(spec.key, { active: 0, windowStart: -Infinity, started: 0, spec });
      return true;
    }
    const changed = f.spec.parallelism !== spec.parallelism || f.spec.rate !== spec.rate || f.spec.period !== spec.period;
    f.spec = spec;
    return changed;
  }

  /** Deliveries in flight for a queue. */
  queueActive(name: string): number {
    return this.#queues.get(name) ?? 0;
  }

  /** `true`, or the time when a rate window reopens (`Infinity`: wait for a slot or a resume). */
  check(msg: StoredMessage, now: number): true | number {
    if (msg.queueName !== undefined) {
      const q = this.queueOf(msg.queueName);
      if (q?.paused || this.queueActive(msg.queueName) >= (q?.parallelism ?? 1)) return Infinity;
    }
    if (!msg.flow) return true;
    const f = this.#flow(msg.flow);
    const admin = this.adminOf(msg.flow.key);
    if (admin?.paused) return Infinity;
    const eff = effectiveFlow(f, admin);
    if (eff.parallelism !== undefined && f.active >= eff.parallelism) return Infinity;
    if (eff.rate !== undefined) {
      const end = f.windowStart + eff.period * 1000;
      if (now < end && f.started >= eff.rate) return end;
    }
    return true;
  }

  acquire(msg: StoredMessage, now: number): void {
    if (msg.queueName !== undefined) this.#queues.set(msg.queueName, this.queueActive(msg.queueName) + 1);
    if (!msg.flow) return;
    const f = this.#flow(msg.flow);
    f.active++;
    if (now >= f.windowStart + effectiveFlow(f, this.adminOf(msg.flow.key)).period * 1000) {
      f.windowStart = now;
      f.started = 0;
    }
    f.started++;
  }

  release(msg: StoredMessage): void {
    if (msg.queueName !== undefined) this.#queues.set(msg.queueName, Math.max(0, this.queueActive(msg.queueName) - 1));
    if (msg.flow) this.#flow(msg.flow).active = Math.max(0, this.#flow(msg.flow).active - 1);
  }

  /** Clears the count and starts a new window now (the admin API's reset-rate). */
  resetRate(key: string, now: number): void {
    const f = this.flows.get(key);
    if (!f) return;
    f.started = 0;
    f.windowStart = now;
  }

  #flow(spec: FlowSpec): FlowState {
    let f = this.flows.get(spec.key);
    if (!f) {
      f = { active: 0, windowStart: -Infinity, started: 0, spec };
      this.flows.set(spec.key, f);
    }
    return f;
  }
}
