import { describe, expect, it } from "vitest";
import { z } from "zod";
import { NonRetryableError, RetryAfterError } from "@/lib/errors";
import { defineJob } from "@/lib/jobs/define";
import { createRegistry } from "@/lib/jobs/registry";
import { fanOut } from "@/lib/qstash/fan-out";
import type { GateClock } from "@/lib/qstash/gate";
import { inlinePublisher, withInlineFanOut, type InlineOutcome } from "@/lib/qstash/inline";
import { LOCAL_QSTASH } from "@/lib/env";

/**
 * fanOut inside withInlineFanOut (what `job:run --in-process` does): each item is a run of its job
 * here, at its message's flow control. Time is virtual: the assertions are when runs start.
 */
function virtualClock() {
  let t = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  // As the real clock: a sleep ends early, rejected, when its signal aborts.
  const clock: GateClock = {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason as Error);
        const timer = { at: t + ms, resolve };
        timers.push(timer);
        signal.addEventListener(
          "abort",
          () => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      }),
  };
  /** Runs `p` to its end, moving time to the next timer whenever nothing else can happen. */
  async function settle<T>(p: Promise<T>): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    for (;;) {
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
      if (done) return p;
      timers.sort((a, b) => a.at - b.at);
      const next = timers.shift();
      if (!next) throw new Error("stuck: nothing runs and no timer is due");
      t = Math.max(t, next.at);
      next.resolve();
    }
  }
  return { clock, settle };
}

const send = defineJob({ name: "send-page", description: "a page of recipients", payload: z.object({ to: z.array(z.string()), at: z.string() }), handler: async () => ({}) });
const deps = { env: { qstash: { ...LOCAL_QSTASH, maxDelayMs: 0 }, appUrl: "http://127.0.0.1:9" }, registry: createRegistry([send], []) };
const item = (n: number) => ({ to: [`a${n}@example.test`, `b${n}@example.test`], at: new Date(Date.UTC(2026, 0, n)).toISOString() });

interface Start {
  at: number;
  payload: unknown;
  attempt: number;
}

function harness(answer: (s: Start, n: number) => InlineOutcome | Promise<InlineOutcome> = () => ({ status: "succeeded" }), runMs = 0, timeoutMs = 1e9) {
  const { clock, settle } = virtualClock();
  const starts: Start[] = [];
  const run = async (job: string, payload: unknown, attempt: number) => {
    const s = { at: clock.now(), payload, attempt };
    starts.push(s);
    if (runMs) await clock.sleep(runMs, new AbortController().signal);
    return { runId: `run-${starts.length}`, ...(await answer(s, starts.length)) };
  };
  const inline = <T>(fn: () => Promise<T>) => settle(withInlineFanOut({ run, timeoutMs, clock }, fn));
  return { starts, inline };
}

describe("fanOut in this process (withInlineFanOut)", () => {
  it("runs each item once with its body as a delivery carries it (JSON), at the flow control's rate", async () => {
    const h = harness();
    const r = await h.inline(() => fanOut(deps, "send-page", [1, 2, 3, 4, 5].map(item), { key: (i) => i.to[0]!, flowControl: { key: "resend", rate: 2, period: 1 } }));
    expect(h.starts.map((s) => s.at)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(h.starts[0]!.payload).toEqual({ to: ["a1@example.test", "b1@example.test"], at: "2026-01-01T00:00:00.000Z" });
    expect(r).toEqual({ messageIds: ["run-1", "run-2", "run-3", "run-4", "run-5"], requests: 0, deduplicated: 0 });
  });

  it("holds at most `parallelism` runs at once; a period given as a duration string counts", async () => {
    const h = harness(undefined, 1000);
    await h.inline(() => fanOut(deps, "send-page", [1, 2, 3, 4, 5].map(item), { key: (i) => i.to[0]!, flowControl: { key: "calls", parallelism: 2 } }));
    expect(h.starts.map((s) => s.at)).toEqual([0, 0, 1000, 1000, 2000]);
    const g = harness();
    await g.inline(() => fanOut(deps, "send-page", [1, 2, 3].map(item), { key: (i) => i.to[0]!, flowControl: { key: "k", rate: 1, period: "1m" } }));
    expect(g.starts.map((s) => s.at)).toEqual([0, 60_000, 120_000]);
  });

  it("shares a key's rate between fan-outs and runs a key once per process (QStash's deduplication id)", async () => {
    const h = harness();
    const fc = { key: "resend", rate: 1, period: 1 };
    const [a, b] = await h.inline(async () => [
      await fanOut(deps, "send-page", [item(1), item(1), item(2)], { key: (i) => i.to[0]!, flowControl: fc }),
      await fanOut(deps, "send-page", [item(2), item(3)], { key: (i) => i.to[0]!, flowControl: fc }),
    ]);
    expect(h.starts.map((s) => s.at)).toEqual([0, 1000, 2000]);
    expect([a!.deduplicated, b!.deduplicated]).toEqual([1, 1]);
    expect(b!.messageIds).toEqual(["run-2", "run-3"]);
  });

  it("runs a failed item again like QStash (1, 2 s backoff; a RetryAfterError's delay), up to `retries`", async () => {
    const h = harness((s) =>
      s.attempt === 0 ? { status: "failed", error: new Error("boom") } : s.attempt === 1 ? { status: "failed", error: new RetryAfterError("429", 7) } : { status: "succeeded" },
    );
    await h.inline(() => fanOut(deps, "send-page", [item(1)], { key: (i) => i.to[0]!, retries: 2 }));
    expect(h.starts.map((s) => [s.at, s.attempt])).toEqual([
      [0, 0],
      [1000, 1],
      [8000, 2],
    ]);
  });

  it("runs every item, then fails the fan-out naming how many failed; a non-retryable error is not retried", async () => {
    const h = harness((_, n) => (n === 1 ? { status: "failed", error: new NonRetryableError("bad key") } : { status: "succeeded" }));
    await expect(h.inline(() => fanOut(deps, "send-page", [1, 2].map(item), { key: (i) => i.to[0]!, retries: 3 }))).rejects.toThrow(
      "1 of 2 runs of send-page failed in this process (first: NonRetryableError: bad key)",
    );
    expect(h.starts.map((s) => s.attempt)).toEqual([0, 0]);
  });

  it("runs a `waiting` item (the job's concurrency) again after its Retry-After, without counting an attempt", async () => {
    const h = harness((_, n) => (n === 1 ? { status: "waiting", retryAfterMs: 3000 } : { status: "succeeded" }));
    await h.inline(() => fanOut(deps, "send-page", [item(1)], { key: (i) => i.to[0]!, retries: 0 }));
    expect(h.starts.map((s) => [s.at, s.attempt])).toEqual([
      [0, 0],
      [3000, 0],
    ]);
  });

  it("refuses messages due later (a process does not wait for them) and runs nothing", async () => {
    const h = harness();
    await expect(h.inline(() => fanOut(deps, "send-page", [item(1)], { key: (i) => i.to[0]!, delaySeconds: 60 }))).rejects.toThrow(/due later .* without --in-process/);
    expect(h.starts).toEqual([]);
  });

  it("runs what a run asks to run later (its runAgainAt) at that time, in the same process; past the deadline it is refused", async () => {
    const refused: string[] = [];
    const h = harness(
      async (s, n) => {
        if (n === 1) {
          const url = "http://127.0.0.1:9/api/jobs/send-page";
          await inlinePublisher.publishJSON({ url, body: s.payload, notBefore: Math.ceil((s.at + 30_000) / 1000) });
          await inlinePublisher.publishJSON({ url, body: s.payload, notBefore: Math.ceil((s.at + 120_000) / 1000) }).catch((e: Error) => refused.push(e.message));
        }
        return { status: "succeeded" };
      },
      0,
      60_000,
    );
    await h.inline(() => fanOut(deps, "send-page", [item(1)], { key: (i) => i.to[0]! }));
    expect(h.starts.map((s) => [s.at, s.payload])).toEqual([
      [0, item(1)],
      [30_000, item(1)],
    ]);
    expect(refused).toEqual([expect.stringMatching(/^cannot run send-page at .* in this process: it ends before then/)]);
  });

  it("starts no item after the run's time is over, and fails the fan-out", async () => {
    const h = harness(undefined, 0, 1500);
    await expect(h.inline(() => fanOut(deps, "send-page", [1, 2, 3, 4].map(item), { key: (i) => i.to[0]!, flowControl: { key: "resend", rate: 1, period: 1 } }))).rejects.toThrow(
      "the run's time (1500 ms) is over",
    );
    expect(h.starts.map((s) => s.at)).toEqual([0, 1000]);
  });
});
