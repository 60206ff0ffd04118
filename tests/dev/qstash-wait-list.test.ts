import { describe, expect, it } from "vitest";
import { Gates } from "../../dev/qstash/gates";
import type { FlowAdmin, StoredMessage, StoredQueue } from "../../dev/qstash/types";
import { WaitList } from "../../dev/qstash/wait-list";

/**
 * The wait list against the scan it replaced: every waiting message in creation order, each
 * started if the gates let it, on every change. Both run the same random history (arrivals over
 * many keys and queues, attempts ending, time passing to reopen rate windows, cancels, a pause
 * and a resume) with real Gates each, and must start the same messages in the same order.
 */

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Side {
  gates: Gates;
  started: number[];
  active: StoredMessage[];
}

const queues: Record<string, StoredQueue> = {
  q1: { name: "q1", parallelism: 2, paused: false, createdAt: 0, updatedAt: 0 } as StoredQueue,
  q2: { name: "q2", parallelism: 1, paused: false, createdAt: 0, updatedAt: 0 } as StoredQueue,
};

function side(admin: Record<string, FlowAdmin>): Side {
  return { gates: new Gates((n) => queues[n], (k) => admin[k]), started: [], active: [] };
}

function history(seed: number, steps: number) {
  const random = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const admin: Record<string, FlowAdmin> = {};
  const ref = side(admin);
  const neu = side(admin);
  let refWaiting: StoredMessage[] = [];
  const list = new WaitList();
  const reopen = new Map<string, number>();
  let now = 1_000_000;
  let seq = 0;
  const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
  const specs = new Map(keys.map((key) => [key, { key, period: pick([1, 2, 5]), ...(random() < 0.7 && { parallelism: pick([1, 2, 3]) }), ...(random() < 0.6 && { rate: pick([1, 2, 4]) }) }]));
  for (const s of specs.values()) if (s.parallelism === undefined && s.rate === undefined) s.parallelism = 1;

  const pumpRef = () => {
    for (const m of [...refWaiting]) {
      if (ref.gates.check(m, now) !== true) continue;
      refWaiting.splice(refWaiting.indexOf(m), 1);
      ref.gates.acquire(m, now);
      ref.started.push(m.seq);
      ref.active.push(m);
    }
  };
  const pumpNew = () =>
    list.drain(
      (m) => neu.gates.check(m, now),
      (m) => {
        neu.gates.acquire(m, now);
        neu.started.push(m.seq);
        neu.active.push(m);
      },
      (key, at) => {
        if (!(reopen.get(key)! <= at)) reopen.set(key, at);
      },
    );

  for (let step = 0; step < steps; step++) {
    const r = random();
    if (r < 0.45) {
      const flow = random() < 0.9 ? specs.get(pick(keys)) : undefined;
      const queueName = random() < 0.2 ? pick(["q1", "q2"]) : undefined;
      const msg = { seq: ++seq, ...(flow && { flow }), ...(queueName && { queueName }) } as StoredMessage;
      if (flow) {
        ref.gates.configure(flow);
        neu.gates.configure(flow);
      }
      // Arrivals are not always the newest: a retry or a delayed message comes back with its old seq.
      const m = random() < 0.1 && seq > 5 ? ({ ...msg, seq: seq - 5.5 - Math.floor(random() * 5) + step * 1e-6 } as StoredMessage) : msg;
      const at = refWaiting.findIndex((w) => w.seq > m.seq);
      refWaiting.splice(at === -1 ? refWaiting.length : at, 0, m);
      list.add(m);
    } else if (r < 0.75 && ref.active.length > 0) {
      const i = Math.floor(random() * ref.active.length);
      const seqDone = ref.active[i]!.seq;
      const [mr] = ref.active.splice(i, 1);
      const j = neu.active.findIndex((m) => m.seq === seqDone);
      expect(j).not.toBe(-1);
      const [mn] = neu.active.splice(j, 1);
      ref.gates.release(mr!);
      neu.gates.release(mn!);
      list.markFor(mn!);
    } else if (r < 0.9) {
      now += Math.floor(random() * 3000);
      for (const [key, at] of reopen) {
        if (at > now) continue;
        reopen.delete(key);
        list.markKey(key);
      }
    } else if (r < 0.97 && refWaiting.length > 0) {
      const m = pick(refWaiting);
      refWaiting = refWaiting.filter((w) => w !== m);
      expect(list.remove(m)).toBe(true);
    } else {
      const key = pick(keys);
      if (admin[key]?.paused) delete admin[key];
      else admin[key] = { paused: true };
      list.markAll();
    }
    pumpRef();
    pumpNew();
    // Both lists only grow: any difference in what started, or in order, shows at the end.
    if (neu.started.length !== ref.started.length || list.size !== refWaiting.length) break;
  }
  expect(neu.started).toEqual(ref.started);
  expect(list.size).toBe(refWaiting.length);
  return { started: ref.started.length, waiting: refWaiting.length };
}

describe("wait list (flow control and queues at scale)", () => {
  it.each([1, 2, 3, 4])("starts what the full scan started, in the same order (history %i)", (seed) => {
    const { started, waiting } = history(seed, 4000);
    // The history exercised both sides of the gates.
    expect(started).toBeGreaterThan(500);
    expect(waiting).toBeGreaterThan(0);
  });

  it("counts a key's wait list across its queues", () => {
    const list = new WaitList();
    const flow = { key: "k", period: 1, parallelism: 1 };
    list.add({ seq: 1, flow } as StoredMessage);
    list.add({ seq: 2, flow, queueName: "q" } as StoredMessage);
    const other = { seq: 3, flow: { ...flow, key: "j" } } as StoredMessage;
    list.add(other);
    expect(list.sizeForKey("k")).toBe(2);
    list.remove(other);
    expect([list.sizeForKey("j"), list.size]).toEqual([0, 2]);
  });
});
