import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql, uniqueName } from "../support/app";

/**
 * The ledger's own decisions on a set clock (`cronlayer.clock`, as the simulation sets it): an open
 * that arrives after its caller gave up, and how long a redelivery is told to wait.
 */
const T = Date.parse("2026-12-01T08:00:00Z");
const at = (ms: number) => new Date(T + ms).toISOString();

/** One ledger call at `ms` after T, in its own transaction. */
async function call<R>(ms: number, fn: string, args: Record<string, unknown>): Promise<R> {
  const names = Object.keys(args);
  return sql().begin(async (tx) => {
    await tx`select set_config('cronlayer.clock', ${at(ms)}, true)`;
    const list = names.map((n, i) => `${n} => $${i + 1}`).join(", ");
    const [row] = await tx.unsafe(`select public.${fn}(${list}) as result`, names.map((n) => args[n] as string));
    return (row as unknown as { result: R }).result;
  }) as Promise<R>;
}

const open = (ms: number, job: string, extra: Record<string, unknown> = {}) =>
  call<{ decision: string; run_id: string; retry_after_ms?: number }>(ms, "job_run_open", {
    p_job: job,
    p_trigger: "qstash",
    p_message_id: "msg_1",
    p_kind: "message",
    p_timeout_ms: "300000",
    p_lease_ms: "30000",
    p_renew_ms: "10000",
    ...extra,
  });

describe("the ledger on a set clock", () => {
  it("records nothing for an open that reaches the database after its caller gave up", async () => {
    const job = uniqueName("late-open");
    // Sent at T with a 15 s bound; a frozen connection delivers it at T + 40 s.
    await expect(open(40_000, job, { p_deadline: at(15_000), p_jti: `jti_${randomUUID()}` })).rejects.toThrow(/after its caller gave up; nothing recorded/);
    expect(await sql()`select id from job_runs where job = ${job}`).toEqual([]);
    // Not even its signature's jti: the redelivery is signed anew, but nothing of the late call stays.
    expect(await open(41_000, job, { p_deadline: at(56_000) })).toMatchObject({ decision: "run" });
  });

  it("tells a redelivery to wait for a crashed run's lease, not for its timeout", async () => {
    const job = uniqueName("crashed");
    const first = await open(0, job);
    expect(first.decision).toBe("run");
    expect(await call(10_000, "job_run_renew", { p_run_id: first.run_id, p_lease_ms: "30000" })).toMatchObject({ renewed: true });
    // The process dies at T + 12 s; QStash's redelivery comes 15 s later. No renewal for 17 s: it is dead.
    const again = await open(27_000, job, { p_attempt: "1" });
    expect(again).toMatchObject({ decision: "in_flight", run_id: first.run_id });
    // Its lease ends at T + 40 s: 13 s, not the 273 s left of its timeout.
    expect(again.retry_after_ms).toBe(13_000);
    expect(await open(40_000, job, { p_attempt: "2" })).toMatchObject({ decision: "run" });
  });

  it("tells a redelivery of a live run's message to come back at its expected end", async () => {
    const job = uniqueName("alive");
    const first = await open(0, job);
    await call(10_000, "job_run_renew", { p_run_id: first.run_id, p_lease_ms: "30000" });
    await call(20_000, "job_run_renew", { p_run_id: first.run_id, p_lease_ms: "30000" });
    const again = await open(25_000, job, { p_attempt: "1" });
    expect(again).toMatchObject({ decision: "in_flight", retry_after_ms: 275_000 });
  });
});
