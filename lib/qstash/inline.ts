import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { Client, FlowControl, PublishRequest } from "@upstash/qstash";
import { ConfigError, NonRetryableError, RetryAfterError } from "../errors";
import { parseDuration } from "../time/duration";
import { Gate, realGateClock, type GateClock } from "./gate";

/** What a run of one message's work answered (RunOutcome's fields that matter here). */
export interface InlineOutcome {
  status: string;
  runId?: string;
  error?: unknown;
  retryAfterMs?: number;
}

/**
 * Runs one message's work in this process: the job's run through the same pipeline a delivery
 * takes. `body` is the message's body as it would arrive (JSON); `attempt` is QStash's retried count.
 */
export type InlineRun = (job: string, body: unknown, attempt: number) => Promise<InlineOutcome>;

/** QStash's retries when a message sets none. */
export const DEFAULT_RETRIES = 3;

/** Without flow control (or without its parallelism) a process still runs at most this many at once. */
export const INLINE_PARALLELISM = 10;

interface InlineFanOut {
  run: InlineRun;
  /** The planner's time: past it no new run starts. */
  signal: AbortSignal;
  /** When `signal` aborts (ms): a run asked for later than this is not taken. */
  deadline: number;
  /** Runs asked for later (a run's runAgainAt), run once the fan-outs are done. */
  later: { job: string; body: unknown; at: number }[];
  clock: GateClock;
  /** One gate per flow-control key, shared by every fan-out of the process, as QStash shares a key between publishers. */
  gates: Map<string, Gate>;
  /** Keys already run by this process: QStash's deduplication id, for the life of the process. */
  seen: Map<string, Promise<string>>;
}

const current = new AsyncLocalStorage<InlineFanOut>();

/**
 * Runs `fn` with fan-outs in this process: every fanOut inside it (however deep, e.g. in the job
 * the CLI runs) runs each item as `run(job, item)` instead of publishing it to QStash. Then the
 * runs asked for later through `inlinePublisher` (a send's runAgainAt) run at their time, while the
 * deadline allows, before `fn`'s answer is given.
 */
export function withInlineFanOut<T>(opts: { run: InlineRun; timeoutMs: number; clock?: GateClock }, fn: () => Promise<T>): Promise<T> {
  const clock = opts.clock ?? realGateClock;
  const ac = new AbortController();
  const store: InlineFanOut = { run: opts.run, signal: ac.signal, deadline: clock.now() + opts.timeoutMs, clock, gates: new Map(), seen: new Map(), later: [] };
  // On the gate's clock, so a virtual clock runs the deadline too; cleared when fn settles, so it never holds the process open.
  void clock.sleep(opts.timeoutMs, ac.signal).then(() => ac.abort(new Error(`the run's time (${opts.timeoutMs} ms) is over`)), () => {});
  return current.run(store, async () => {
    try {
      const answer = await fn();
      await runLater(store);
      return answer;
    } finally {
      ac.abort();
    }
  });
}

/** Whether fan-outs run in this process here (inside withInlineFanOut). */
export const isInline = (): boolean => current.getStore() !== undefined;

export interface InlineItem {
  payload: unknown;
  key: string;
}

export interface InlineResult {
  ids: string[];
  deduplicated: number;
}

/**
 * The items of one fan-out run here, each once per key, at the message's flow control (rate per
 * period and parallelism on its key). Every item runs even when one fails, as QStash delivers every
 * message; then a failure fails the fan-out (and so the planner: exit 1), naming how many failed.
 * Their keys make the rerun send only what is missing.
 */
export async function runInline(
  job: string,
  items: readonly InlineItem[],
  opts: { flowControl?: FlowControl; notBefore?: Date; delaySeconds?: number; retries?: number },
): Promise<InlineResult> {
  const inline = current.getStore();
  if (!inline) throw new Error("runInline outside withInlineFanOut");
  const now = inline.clock.now();
  if ((opts.notBefore && opts.notBefore.getTime() > now) || (opts.delaySeconds ?? 0) > 0) {
    throw new ConfigError(`cannot run ${job} in this process: its messages are due later (a delay or notBefore), and a process does not wait for them. Run the planner without --in-process (and without CRONLAYER_FANOUT=inline) so QStash delivers them when due.`);
  }
  const gate = gateOf(inline, opts.flowControl);
  const out: InlineResult = { ids: [], deduplicated: 0 };
  const failures: unknown[] = [];
  const runs = items.map((item) => {
    const earlier = inline.seen.get(item.key);
    if (earlier) {
      out.deduplicated++;
      return earlier;
    }
    const run = runOne(inline, gate, job, item.payload, opts.retries ?? DEFAULT_RETRIES).catch((err: unknown) => (failures.push(err), ""));
    inline.seen.set(item.key, run);
    return run;
  });
  out.ids = await Promise.all(runs);
  inline.signal.throwIfAborted();
  if (failures.length) {
    const first = failures[0] instanceof Error ? `${failures[0].name}: ${failures[0].message}` : String(failures[0]);
    throw new Error(`${failures.length} of ${items.length} runs of ${job} failed in this process (first: ${first}); the others are done, and their keys make a rerun do only what is missing`);
  }
  return out;
}

/**
 * One item as QStash would deliver it: its turn on the gate, then the run; a `waiting` answer (the
 * job's concurrency) is run again after its Retry-After, a failure again up to `retries` times
 * (after the error's Retry-After, else 1, 2, 4 ... s), unless it is non-retryable.
 */
async function runOne(inline: InlineFanOut, gate: Gate, job: string, payload: unknown, retries: number): Promise<string> {
  for (let attempt = 0; ; ) {
    const release = await gate.acquire(inline.signal);
    let o: InlineOutcome;
    try {
      o = await inline.run(job, payload, attempt);
    } finally {
      release();
    }
    if (o.status === "waiting") {
      await inline.clock.sleep(o.retryAfterMs ?? 1000, inline.signal);
      continue;
    }
    if (o.status !== "failed") return o.runId ?? "";
    if (attempt >= retries || o.error instanceof NonRetryableError) throw o.error;
    attempt++;
    await inline.clock.sleep(o.error instanceof RetryAfterError ? o.error.retryAfterSeconds * 1000 : Math.min(2 ** (attempt - 1), 30) * 1000, inline.signal);
  }
}

function gateOf(inline: InlineFanOut, fc: FlowControl | undefined): Gate {
  const key = fc?.key ?? "";
  const rate = fc && "rate" in fc ? fc.rate : undefined;
  const parallelism = (fc && "parallelism" in fc ? fc.parallelism : undefined) ?? INLINE_PARALLELISM;
  const periodMs = fc && "period" in fc && fc.period !== undefined ? periodOf(fc.period) : 1000;
  let gate = inline.gates.get(key);
  if (!gate) inline.gates.set(key, (gate = new Gate(inline.clock)));
  // The latest settings of a key apply, as QStash applies those of the latest message.
  gate.configure({ intervalMs: rate ? periodMs / rate : 0, parallelism });
  return gate;
}

function periodOf(period: number | string): number {
  const ms = typeof period === "number" ? period * 1000 : parseDuration(period);
  if (ms === undefined || ms <= 0) throw new ConfigError(`flow control period "${String(period)}" is not a duration (e.g. 1s, 1m)`);
  return ms;
}

/**
 * What a run publishes in this process (RunDeps.qstash): its runAgainAt, a one-time run of its own
 * job at a later time. Taken when due before the deadline, run by withInlineFanOut after the
 * fan-outs; past it, refused (the caller logs it, and the job's next run sees the effects due).
 */
export const inlinePublisher = {
  publishJSON: async (req: PublishRequest<unknown>) => {
    const inline = current.getStore();
    const job = new URL(req.url ?? "http://invalid/").pathname.split("/").pop() ?? "";
    if (!inline) throw new Error(`cannot run ${job} later in this process: no in-process run is going on`);
    const delayMs = typeof req.delay === "number" ? req.delay * 1000 : req.delay ? (parseDuration(req.delay) ?? 0) : 0;
    const at = req.notBefore ? req.notBefore * 1000 : inline.clock.now() + delayMs;
    if (at > inline.deadline) {
      throw new Error(`cannot run ${job} at ${new Date(at).toISOString()} in this process: it ends before then (--timeout); the job's next run takes up what is due`);
    }
    inline.later.push({ job, body: JSON.parse(JSON.stringify(req.body ?? {})) as unknown, at });
    return { messageId: `inline_${randomUUID()}`, url: req.url ?? "" };
  },
} as unknown as Pick<Client, "publishJSON">;

/** The runs asked for later, each at its time (earliest first), until none is left or the deadline passes. */
async function runLater(inline: InlineFanOut): Promise<void> {
  const gate = gateOf(inline, undefined);
  while (inline.later.length) {
    inline.later.sort((a, b) => a.at - b.at);
    const next = inline.later.shift()!;
    try {
      const wait = next.at - inline.clock.now();
      if (wait > 0) await inline.clock.sleep(wait, inline.signal);
      // Its own failure is recorded by its run, as a retry run's delivery would be; the answer is the planner's.
      await runOne(inline, gate, next.job, next.body, DEFAULT_RETRIES).catch(() => undefined);
    } catch {
      return; // the deadline passed while waiting
    }
  }
}
