import type postgres from "postgres";
import type { RunDeps, RunOutcome } from "../../lib/jobs/run";
import { runJob } from "../../lib/jobs/run";
import { createRegistry } from "../../lib/jobs/registry";
import { createLogger } from "../../lib/log";
import type { Env } from "../../lib/env";
import { simDb, type DbCallRecord, type DbFault } from "./db";
import { EMAIL_ITEMS, EXPECTED, SIM_JOBS, SIM_SCHEDULES } from "./jobs";
import { Edge, simProviders, type ProviderAnswer } from "./providers";
import { World, type Proc } from "./world";

/** Where a simulation's randomness comes from: fast-check's generator (shrinkable), or any stand-in. */
export interface Draw {
  int(max: number): number;
  /** True with probability about p. */
  chance(p: number): boolean;
}

export interface Delivery {
  job: string;
  payload: unknown;
  messageId: string;
  tick: boolean;
  attempt: number;
  /** The step after which its process dies, if it does. */
  crashAfter?: number;
}

export interface SimState {
  world: World;
  edge: Edge;
  calls: DbCallRecord[];
  outcomes: { d: Delivery; proc: Proc; outcome?: RunOutcome; error?: unknown }[];
  /** Processes that met a fault (a database fault, a lost lease, a crash): what they heard may not be recorded. */
  faulted: Set<string>;
  heardBy: Map<string, string>;
  violations: string[];
}

const START = Date.parse("2026-12-01T08:00:00Z");

/**
 * One schedule of events: deliveries of three jobs (duplicates, redeliveries, overlapping ticks)
 * under database faults, provider faults, crashes and any order of steps; then the faults stop
 * and clean ticks and redeliveries run until the work is done. Returns the state to check.
 */
export async function simulate(sql: postgres.Sql, env: Env, draw: Draw, opts: { faults: boolean }): Promise<SimState> {
  let faultsOn = opts.faults;
  const world = new World(START, (n) => draw.int(n - 1), () => faultsOn && draw.chance(0.2));
  const s: SimState = { world, edge: new Edge(), calls: [], outcomes: [], faulted: new Set(), heardBy: new Map(), violations: [] };
  // Ticks have slots (each minute), so two ticks of one minute are one slot: the slot key decides.
  // sim-post buffers one waiting tick; sim-call skips.
  const registry = createRegistry(SIM_JOBS, SIM_SCHEDULES);
  let procs = 0;

  const deliver = (d: Delivery) => {
    const proc = world.spawn(`p${++procs}:${d.job}${d.tick ? "" : `:${d.messageId}`}#${d.attempt}`);
    const entry: SimState["outcomes"][number] = { d, proc };
    let steps = 0;
    // This process's lease renewals fail for a while (a stuck connection), while the rest of its
    // work goes on: it must stop making effects before another run may take them.
    const cutFrom = world.t + draw.int(20) * 1000;
    const cut = faultsOn && d.attempt === 0 && draw.chance(0.35) ? { from: cutFrom, to: cutFrom + 30_000 + draw.int(60) * 1000 } : undefined;
    if (cut) world.trace.push(`${world.t} cut ${proc.name} renewals ${cut.from}-${cut.to}`);
    const dbFault = (fn: string): DbFault => {
      if (d.crashAfter !== undefined && ++steps > d.crashAfter && !proc.dead) {
        world.crash(proc);
        s.faulted.add(proc.name);
      }
      if (!faultsOn) return "none";
      if (cut && fn === "job_run_renew" && world.t >= cut.from && world.t < cut.to) {
        s.faulted.add(proc.name);
        return "refused";
      }
      const f: DbFault = draw.chance(0.05) ? "refused" : draw.chance(0.04) ? "frozen" : draw.chance(0.05) ? { slowMs: 5_000 + draw.int(35) * 1000 } : "none";
      if (f !== "none") s.faulted.add(proc.name);
      return f;
    };
    const answer = (): ProviderAnswer => {
      if (!faultsOn) return "ok";
      const a = (["ok", "ok", "ok", "reject", "5xx-before", "5xx-after", "slow"] as const)[draw.int(6)]!;
      return a === "slow" ? { slowMs: 5_000 + draw.int(55) * 1000 } : a;
    };
    const log = createLogger("debug", {}, (line) => {
      if (line.includes('"job.run.lease_lost"')) s.faulted.add(proc.name);
    });
    const providers = simProviders({ world, proc, edge: s.edge, env, answer });
    const deps: RunDeps = {
      db: simDb({ sql, world, proc, fault: dbFault, calls: s.calls }),
      redis: undefined,
      env,
      log,
      registry,
      providers: hearing(providers, proc, s),
      clock: () => new Date(world.t),
      timers: world.timersFor(proc),
      qstash: { publishJSON: ((m: { body?: unknown }) => world.point(proc, "qstash publish", () => checkRetryPublish(sql, s, m, entry))) as never },
    };
    s.outcomes.push(entry);
    void runJob({ job: d.job, payload: d.payload, trigger: "qstash", messageId: d.messageId, scheduleId: d.tick ? "sim-schedule" : undefined, attempt: d.attempt }, deps).then(
      (outcome) => {
        entry.outcome = outcome;
        // QStash retries what was not answered 2xx, after Retry-After when given.
        const retry = outcome.status === "failed" ? 12_000 : outcome.status === "in_flight" || outcome.status === "waiting" ? outcome.retryAfterMs : undefined;
        // A tick is left to the next tick, except buffer-one's waiting tick: QStash delivers it again.
        const again = !d.tick || (outcome.status === "waiting" && outcome.buffered !== undefined);
        if (retry !== undefined && again && d.attempt < 3) later(retry, { ...d, attempt: d.attempt + 1, crashAfter: undefined });
      },
      (error: unknown) => {
        entry.error = error;
        if (!d.tick && d.attempt < 3) later(12_000, { ...d, attempt: d.attempt + 1, crashAfter: undefined });
      },
    );
  };
  const qstash = world.spawn("qstash");
  const later = (ms: number, d: Delivery) => world.timersFor(qstash).setTimeout(() => deliver(d), ms);

  // The fault phase: a schedule's ticks a few seconds apart (they overlap when a run is slow),
  // one-time messages with duplicates, some processes dying or losing the database.
  const plan: Omit<Delivery, "attempt" | "crashAfter">[] = [];
  for (const [job, most] of [["sim-call", 4], ["sim-post", 3]] as const) {
    for (let i = 0, n = 1 + draw.int(most); i < n; i++) plan.push({ job, tick: true, payload: {}, messageId: `${job}-tick-${i}` });
  }
  for (let i = 0, n = 2 + draw.int(3); i < n; i++) {
    const item = EMAIL_ITEMS[draw.int(EMAIL_ITEMS.length - 1)]!;
    plan.push({ job: "sim-email", tick: false, payload: { item }, messageId: `msg-${item}` });
  }
  for (const p of plan) {
    // sim-post's ticks straddle a minute's end: a tick of the next slot finds the last one's run (buffer-one).
    const at = (p.job === "sim-post" ? 45 + draw.int(30) : draw.int(120)) * 1000;
    later(at, { ...p, attempt: 0, crashAfter: opts.faults && draw.chance(0.15) ? draw.int(12) : undefined });
    // A faulty transport fires a tick twice for its slot: another message id, later in the same
    // minute (START is on a minute), while the first runs or after it ended.
    if (p.tick && draw.chance(0.3)) later(at + draw.int(59 - ((at / 1000) % 60)) * 1000, { ...p, messageId: `${p.messageId}-twin`, attempt: 0 });
  }
  await world.run({ maxSteps: 4000, until: START + 30 * 60_000 });

  // The faults stop. Every due item must now end done once, or abandoned with a reason.
  faultsOn = false;
  for (let round = 0; round < 8; round++) {
    world.t += 60 * 60_000;
    for (const job of ["sim-call", "sim-post"]) deliver({ job, tick: true, payload: {}, messageId: `clean-${round}-${job}`, attempt: 0 });
    for (const item of EMAIL_ITEMS) deliver({ job: "sim-email", tick: false, payload: { item }, messageId: `msg-${item}-clean-${round}`, attempt: 0 });
    await world.run({ maxSteps: 4000, until: world.t + 30 * 60_000, prompt: true });
    const [open] = await sql<{ n: number }[]>`select count(*)::int as n from effects where status not in ('succeeded', 'abandoned')`;
    const [made] = await sql<{ n: number }[]>`select count(*)::int as n from effects`;
    if (!open!.n && made!.n >= EXPECTED.length) break;
  }
  return s;
}

/** Notes which process heard a success for which effect (the edge counts what was made). */
function hearing(p: ReturnType<typeof simProviders>, proc: Proc, s: SimState): typeof p {
  const heard = <T>(key: string, r: Promise<T>) => r.then((v) => (s.heardBy.set(key, proc.name), v));
  const voice = p.kit.voice;
  return {
    ...p,
    email: () => ({ send: (m, sig) => heard(`email:${m.idempotencyKey}`, p.email().send(m, sig)), sendBatch: (b, sig) => p.email().sendBatch(b, sig) }),
    // The voice vendor is the sim's own (simVendors builds it from the kit): a new kit, a new build.
    kit: { ...p.kit, voice: { call: (r, sig) => heard(`voice:${r.key}`, voice.call(r, sig)), findCall: (q, sig) => voice.findCall(q, sig) } },
    slack: () => ({ post: (m, sig) => heard(`slack:${m.key}`, p.slack()!.post(m, sig)) }),
  };
}

/**
 * A retry run is published only for a payload whose own effect waits for a retry: one that the
 * publishing run settled, and that is neither failed nor unknown (nor taken by another run since).
 */
async function checkRetryPublish(sql: postgres.Sql, s: SimState, m: { body?: unknown }, entry: SimState["outcomes"][number]) {
  const body = (typeof m.body === "string" ? JSON.parse(m.body) : m.body) as { item?: string } | undefined;
  const runId = s.calls.find((c) => c.proc === entry.proc.name && c.fn === "job_run_open" && (c.result as { decision?: string })?.decision === "run")?.result as { run_id: string } | undefined;
  if (body?.item && runId) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from effects where key = ${`email:${body.item}`} and run_id = ${runId.run_id} and status not in ('failed', 'unknown')`;
    if (row!.n) s.violations.push(`a retry run was published for ${JSON.stringify(body)}, whose effect needs no retry`);
  }
  return { messageId: `msg_retry_${s.world.t}` };
}
