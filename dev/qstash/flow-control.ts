import { parseDuration } from "./duration";
import type { FlowSpec, StoredMessage } from "./types";

/** `parallelism=5, rate=10, period=1m` (any subset; period in seconds or as a duration). */
export function parseFlowControl(key: string, value: string): FlowSpec {
  const spec: FlowSpec = { key, period: 1 };
  for (const part of value.split(",")) {
    if (part.trim() === "") continue;
    const [name, raw = ""] = part.split("=").map((s) => s.trim());
    const v = raw.trim();
    if (name === "parallelism" || name === "rate") {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`invalid Upstash-Flow-Control-Value: ${name} must be a whole number >= 1, got "${v}"`);
      spec[name] = Number(v);
    } else if (name === "period") {
      const ms = parseDuration(v);
      if (ms === undefined || ms < 1000) throw new Error(`invalid Upstash-Flow-Control-Value: period must be at least 1s, got "${v}"`);
      spec.period = Math.round(ms / 1000);
    } else {
      throw new Error(`invalid Upstash-Flow-Control-Value: unknown setting "${name}" (use parallelism, rate, period)`);
    }
  }
  if (spec.parallelism === undefined && spec.rate === undefined) throw new Error("invalid Upstash-Flow-Control-Value: give parallelism and/or rate, e.g. parallelism=5, rate=10, period=1m");
  return spec;
}

interface FlowState {
  active: number;
  windowStart: number;
  started: number;
  /** The latest message's settings win, as on QStash. */
  spec: FlowSpec;
}

/**
 * Who may start an attempt now: queues (FIFO, one at a time) and flow-control keys (parallelism,
 * and a rate per period counted in fixed windows from the first start).
 */
export class Gates {
  #queues = new Map<string, number>();
  #flows = new Map<string, FlowState>();

  /** Called when a message with flow control is created, so its settings take effect. */
  configure(spec: FlowSpec): void {
    const f = this.#flows.get(spec.key);
    if (f) f.spec = spec;
    else this.#flows.set(spec.key, { active: 0, windowStart: -Infinity, started: 0, spec });
  }

  /** `true`, or the time when a rate window reopens (`Infinity`: wait for a slot to free). */
  check(msg: StoredMessage, now: number): true | number {
    if (msg.queueName !== undefined && (this.#queues.get(msg.queueName) ?? 0) >= 1) return Infinity;
    if (!msg.flow) return true;
    const f = this.#flow(msg.flow);
    if (f.spec.parallelism !== undefined && f.active >= f.spec.parallelism) return Infinity;
    if (f.spec.rate !== undefined) {
      const end = f.windowStart + f.spec.period * 1000;
      if (now < end && f.started >= f.spec.rate) return end;
    }
    return true;
  }

  acquire(msg: StoredMessage, now: number): void {
    if (msg.queueName !== undefined) this.#queues.set(msg.queueName, (this.#queues.get(msg.queueName) ?? 0) + 1);
    if (!msg.flow) return;
    const f = this.#flow(msg.flow);
    f.active++;
    if (now >= f.windowStart + f.spec.period * 1000) {
      f.windowStart = now;
      f.started = 0;
    }
    f.started++;
  }

  release(msg: StoredMessage): void {
    if (msg.queueName !== undefined) this.#queues.set(msg.queueName, Math.max(0, (this.#queues.get(msg.queueName) ?? 1) - 1));
    if (msg.flow) this.#flow(msg.flow).active = Math.max(0, this.#flow(msg.flow).active - 1);
  }

  #flow(spec: FlowSpec): FlowState {
    let f = this.#flows.get(spec.key);
    if (!f) {
      f = { active: 0, windowStart: -Infinity, started: 0, spec };
      this.#flows.set(spec.key, f);
    }
    return f;
  }
}
