import { describe, expect, it } from "vitest";
import { defineJob, type JobDefinition } from "../../lib/jobs/define";
import { jobRoute } from "../../lib/http/job-route";
import { ledger, params, qstashRequest, sql, testDeps, uniqueName } from "../support/app";

/** A handler that counts its calls and stays busy until released, so deliveries overlap for sure. */
function gatedJob(name: string, overlap: "skip" | "allow") {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const job = defineJob({
    name,
    description: "t",
    overlap,
    handler: async () => {
      calls += 1;
      await gate;
      return { calls };
    },
  });
  return { job, release, calls: () => calls };
}

/** Resolves once all but one of the promises have settled (the one left is the running delivery). */
function allButOne(pending: Promise<Response>[]): Promise<string> {
  let settled = 0;
  return new Promise((resolve) => {
    for (const p of pending) void p.finally(() => ++settled === pending.length - 1 && resolve("others answered"));
    setTimeout(resolve, 5000, "timeout");
  });
}

function setup(jobs: JobDefinition[], schedules = jobs.map((j) => ({ job: j.name, cron: "* * * * *" }))) {
  const deps = testDeps(jobs, schedules);
  const route = jobRoute("cron", async () => deps);
  return { deps, deliver: (job: string, req: Request) => route.POST(req, params(job)) };
}

describe("run ledger on the real PostgreSQL", () => {
  it("runs the handler exactly once for 20 concurrent deliveries of the same message", async () => {
    const name = uniqueName("same-msg");
    const g = gatedJob(name, "allow");
    const { deliver } = setup([g.job]);
    const path = `/api/cron/${name}`;
    const pending = Array.from({ length: 20 }, () => deliver(name, qstashRequest(path, "{}", { messageId: "msg_same" })));
    // Every delivery but the running one has answered before the handler is let go.
    const early = await allButOne(pending);
    g.release();
    const responses = await Promise.all(pending);
    expect(early).not.toBe("timeout");
    expect(g.calls()).toBe(1);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // Still in flight: retry later (429), never 200, so a failure of the first would still be retried.
    expect(statuses.filter((s) => s === 429)).toHaveLength(19);
    expect(responses.find((r) => r.status === 429)!.headers.get("retry-after")).toMatch(/^\d+$/);
    const rows = await ledger(name);
    expect(rows.map((r) => r.status)).toEqual(["succeeded"]);
    // Once it has succeeded, a redelivery is a recorded duplicate answered 200.
    const again = await deliver(name, qstashRequest(path, "{}", { messageId: "msg_same" }));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "duplicate" });
    expect(g.calls()).toBe(1);
    expect((await ledger(name)).map((r) => r.status).sort()).toEqual(["duplicate", "succeeded"]);
  });

  it("runs an overlap:skip job once for 20 concurrent scheduled ticks and records the others as skipped", async () => {
    const name = uniqueName("overlap");
    const g = gatedJob(name, "skip");
    const { deliver } = setup([g.job]);
    const tick = (i: number) => qstashRequest(`/api/cron/${name}`, "{}", { messageId: `msg_${i}`, scheduleId: `test-${name}` });
    const pending = Array.from({ length: 20 }, (_, i) => deliver(name, tick(i)));
    expect(await allButOne(pending)).toBe("others answered");
    g.release();
    const bodies = await Promise.all((await Promise.all(pending)).map(async (r) => ({ code: r.status, ...((await r.json()) as { status: string }) })));
    expect(g.calls()).toBe(1);
    expect(bodies.every((b) => b.code === 200)).toBe(true);
    expect(bodies.filter((b) => b.status === "succeeded")).toHaveLength(1);
    expect(bodies.filter((b) => b.status === "skipped")).toHaveLength(19);
    const rows = await ledger(name);
    expect(rows.filter((r) => r.status === "skipped")).toHaveLength(19);
    expect(rows.filter((r) => r.status === "succeeded")).toHaveLength(1);
  });

  it("lets a run whose process died hold its job for one short lease, not its timeout", async () => {
    const name = uniqueName("crash");
    let calls = 0;
    const job = defineJob({ name, description: "t", timeoutMs: 60_000, handler: async () => ({ calls: ++calls }) });
    const { deps, deliver } = setup([job]);
    deps.lease = { leaseMs: 1500, renewMs: 500 };
    // A process that opened its run and died: nothing will ever renew or close it.
    const dead = await deps.db.rpc<{ decision: string; run_id: string }>("job_run_open", { p_job: name, p_trigger: "qstash", p_message_id: "msg_dead", p_lease_ms: 1500, p_timeout_ms: 60_000 });
    expect(dead.decision).toBe("run");
    const tick = () => qstashRequest(`/api/cron/${name}`, "{}", { scheduleId: `test-${name}` });
    const during = await deliver(name, tick());
    expect(await during.json()).toMatchObject({ status: "skipped" });
    expect(calls).toBe(0);
    await new Promise((r) => setTimeout(r, 1600));
    const after = await deliver(name, tick());
    expect(await after.json()).toMatchObject({ status: "succeeded" });
    expect(calls).toBe(1);
    const rows = await ledger(name);
    const crashed = rows.find((r) => r.id === dead.run_id)!;
    expect(crashed.status).toBe("failed");
    expect(crashed.error?.name).toBe("LeaseExpired");
    expect(crashed.duration_ms).toBeGreaterThanOrEqual(1490);
    expect(crashed.duration_ms).toBeLessThan(60_000);
  });

  it("records a slot 30 days back (a monthly cron, a replay) with its lag instead of failing the open", async () => {
    const name = uniqueName("old-slot");
    const job = defineJob({ name, description: "t", handler: async ({ run }) => ({ slot: run.slotAt?.toISOString() }) });
    const { deps, deliver } = setup([job], [{ job: name, cron: "0 0 * * *" }]);
    const arrival = new Date(Date.now() - 30 * 86_400_000);
    deps.clock = () => arrival;
    const res = await deliver(name, qstashRequest(`/api/cron/${name}`, "{}", { scheduleId: `test-${name}` }));
    expect(res.status).toBe(200);
    const { stats } = (await res.json()) as { stats: { slot: string } };
    const [row] = await ledger(name);
    expect(row!.status).toBe("succeeded");
    expect(row!.slot_at!.toISOString()).toBe(stats.slot);
    // Past the integer range of milliseconds (24.8 days).
    const lag = Number(row!.lag_ms);
    expect(lag).toBeGreaterThan(30 * 86_400_000);
    expect(lag).toBeLessThan(31 * 86_400_000 + 60_000);
  });

  it("keeps the slot of a message's first attempt for its retries, so lag shows the real delay", async () => {
    const name = uniqueName("retry-slot");
    const slots: (string | undefined)[] = [];
    const job = defineJob({
      name,
      description: "t",
      handler: async ({ run }) => {
        slots.push(run.slotAt?.toISOString());
        if (slots.length === 1) throw new Error("first attempt fails");
      },
    });
    const { deps, deliver } = setup([job], [{ job: name, cron: "*/5 * * * *" }]);
    const first = new Date(Date.now() - 20 * 60_000);
    let arrival = first;
    deps.clock = () => arrival;
    const attempt = (retried: number) => qstashRequest(`/api/cron/${name}`, "{}", { scheduleId: `test-${name}`, messageId: "msg_slot", retried });
    expect((await deliver(name, attempt(0))).status).toBe(500);
    // QStash retries 20 minutes later: today's latest tick is four ticks after the message's own.
    arrival = new Date();
    expect((await deliver(name, attempt(1))).status).toBe(200);
    const rows = await ledger(name);
    expect(rows.map((r) => r.status)).toEqual(["failed", "succeeded"]);
    expect(rows[1]!.slot_at!.toISOString()).toBe(rows[0]!.slot_at!.toISOString());
    expect(slots).toEqual([rows[0]!.slot_at!.toISOString(), rows[0]!.slot_at!.toISOString()]);
    expect(Number(rows[1]!.lag_ms)).toBeGreaterThanOrEqual(20 * 60_000);
  });

  it("runs a redelivery after a failure again and counts the attempt", async () => {
    const name = uniqueName("retry");
    let calls = 0;
    const job = defineJob({
      name,
      description: "t",
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new Error("provider hiccup");
        return { sent: 3 };
      },
    });
    const { deliver } = setup([job]);
    const first = await deliver(name, qstashRequest(`/api/cron/${name}`, "{}", { messageId: "msg_r", retried: 0 }));
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ status: "failed", error: "provider hiccup" });
    const second = await deliver(name, qstashRequest(`/api/cron/${name}`, "{}", { messageId: "msg_r", retried: 1 }));
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: "succeeded", stats: { sent: 3 } });
    const rows = await ledger(name);
    expect(rows.map((r) => [r.status, r.attempt, r.message_id])).toEqual([
      ["failed", 0, "msg_r"],
      ["succeeded", 1, "msg_r"],
    ]);
    expect(rows[0]!.error).toMatchObject({ name: "Error", message: "provider hiccup" });
    expect(rows[1]!.stats).toEqual({ sent: 3 });
  });
});

describe("which opens wait for which", () => {
  /** An open left uncommitted in a transaction of its own: it holds whatever lock it took until rollback. */
  async function holdOpen(args: Record<string, unknown>) {
    const conn = await sql().reserve();
    await conn`begin`;
    const [row] = await conn<{ r: { decision: string } }[]>`select job_run_open(${args.p_job as string}, 'qstash', p_message_id => ${args.p_message_id as string}, p_kind => ${args.p_kind as string}, p_overlap => 'allow', p_slot_at => ${(args.p_slot_at as Date | null) ?? null}::timestamptz) as r`;
    expect(row!.r.decision).toBe("run");
    return { rollback: async () => (await conn`rollback`, conn.release()) };
  }
  /** Another open on its own connection: its decision, or "blocked" if it waited for a lock (lock_timeout). */
  async function tryOpen(job: string, messageId: string, kind: "message" | "tick", slotAt: Date | null = null): Promise<string> {
    const conn = await sql().reserve();
    try {
      await conn`begin`;
      await conn`set local lock_timeout = '1s'`;
      const [row] = await conn<{ r: { decision: string } }[]>`select job_run_open(${job}, 'qstash', p_message_id => ${messageId}, p_kind => ${kind}, p_overlap => 'allow', p_slot_at => ${slotAt}::timestamptz) as r`;
      return row!.r.decision;
    } catch (err) {
      return (err as { code?: string }).code === "55P03" ? "blocked" : String(err);
    } finally {
      await conn`rollback`;
      conn.release();
    }
  }

  it("one-time messages of one job open side by side; two deliveries of one message, and slot runs, still serialize", async () => {
    const job = uniqueName("fan");
    const held = await holdOpen({ p_job: job, p_message_id: "msg_a", p_kind: "message" });
    try {
      expect(await tryOpen(job, "msg_b", "message")).toBe("run");
      expect(await tryOpen(job, "msg_a", "message")).toBe("blocked");
    } finally {
      await held.rollback();
    }
    const slot = new Date("2035-01-01T10:00:00Z");
    const slotted = await holdOpen({ p_job: job, p_message_id: "msg_c", p_kind: "message", p_slot_at: slot });
    try {
      // A slot is decided across the job's runs: the job's lock, as before.
      expect(await tryOpen(job, "msg_d", "message", slot)).toBe("blocked");
      expect(await tryOpen(job, "msg_e", "tick")).toBe("blocked");
    } finally {
      await slotted.rollback();
    }
  });
});
