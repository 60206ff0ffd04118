import { Client } from "@upstash/qstash";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { NonRetryableError, ProviderError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { runEffects } from "../../lib/jobs/effects";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { recordAction } from "../../lib/ops/audit";
import { effectAction } from "../../lib/ops/effect-actions";
import { sql, testDeps, uniqueName } from "../support/app";

// A person's decision on an effect (ops_effect_resolve) on the real ledger, on effects made the
// way jobs make them (runEffects: effects_claim, effects_finish), and the run page's retry end to end.

/** What the provider stand-in does with each item: makes it, rejects it (4xx), loses the answer (5xx), refuses for good, or holds the claim. */
type Mode = "ok" | "reject" | "lost" | "refuse" | "hold";
const modes = new Map<string, Mode>();
/** Every call that left the app, by effect key, and whether the provider made it. */
const calls: { key: string; made: boolean }[] = [];
let held: { reached: () => void; release: Promise<void> } | undefined;

const fx = uniqueName("fx");
const charge = uniqueName("charge");
let down = true;

const jobs = [
  defineJob({
    name: fx,
    description: "one effect per payload",
    payload: z.object({ id: z.string(), max: z.number().int().default(8) }),
    handler: async (ctx) => ({
      ...(await runEffects<string, unknown>(ctx, {
        due: async ({ after }) => (after === undefined ? [ctx.payload.id] : []),
        key: (id) => `${fx}:${id}`,
        subject: (id) => `thing-${id}`,
        maxAttempts: ctx.payload.max,
        onUnknown: "retry-with-key",
        work: async (id, e) => {
          const mode = modes.get(id) ?? "ok";
          if (mode === "hold" && held) {
            held.reached();
            await held.release;
          }
          calls.push({ key: e.key, made: mode === "ok" || mode === "hold" });
          if (mode === "reject") throw new ProviderError("Vendor", "HTTP 409: rejected", 409);
          if (mode === "lost") throw new ProviderError("Vendor", "HTTP 503: no answer", 503);
          if (mode === "refuse") throw new NonRetryableError("the vendor refuses this one");
          return { made: id };
        },
      })),
    }),
  }),
  defineJob({
    name: charge,
    description: "charges one payment, at most two attempts",
    payload: z.object({ payment: z.string() }),
    handler: async (ctx) => ({
      ...(await runEffects<string, unknown>(ctx, {
        due: async ({ after }) => (after === undefined ? [ctx.payload.payment] : []),
        key: (p) => `${charge}:${p}`,
        subject: (p) => p,
        maxAttempts: 2,
        onUnknown: "retry-with-key",
        work: async (p, e) => {
          calls.push({ key: e.key, made: !down });
          if (down) throw new ProviderError("Vendor", "HTTP 422: card processor down", 422);
          return { charged: p };
        },
      })),
    }),
  }),
];

let qstash: QStashServer;
let client: Client;
let deps: RunDeps;
let clock = new Date();

beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  deps = { ...testDeps(jobs, [], { QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token }), clock: () => clock };
});
afterAll(async () => {
  await deps?.db.close();
  await qstash?.close();
});

interface EffectDbRow {
  key: string;
  status: string;
  attempts: number;
  max_attempts: number;
  next_attempt_at: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  run_id: string | null;
  lease_until: Date | null;
  updated_at: Date;
}
const row = async (key: string) => (await sql()<EffectDbRow[]>`select * from effects where key = ${key}`)[0]!;
const resolve = (key: string, action: string, expected: string | null, now: Date, note = "checked", job = fx) =>
  deps.db.rpc<{ ok: boolean; error?: string; status?: string; from?: string }>("ops_effect_resolve", { p_key: key, p_action: action, p_expected: expected, p_now: now, p_note: note, p_job: job });

/** Runs the fx job once for item `id` in `mode`, and answers its effect's key. */
async function effectIn(id: string, mode: Mode, max = 8): Promise<string> {
  modes.set(id, mode);
  await runJob({ job: fx, payload: { id, max }, trigger: "manual", oneTime: true }, deps);
  return `${fx}:${id}`;
}

describe("ops_effect_resolve", () => {
  it("drives effects to failed, unknown and abandoned through runEffects", async () => {
    expect(await row(await effectIn("f1", "reject"))).toMatchObject({ status: "failed", attempts: 1, finished_at: null, last_error: expect.stringContaining("409") });
    expect(await row(await effectIn("u1", "lost"))).toMatchObject({ status: "unknown", attempts: 1, finished_at: null });
    expect(await row(await effectIn("a1", "refuse"))).toMatchObject({ status: "abandoned", attempts: 1, finished_at: expect.any(Date) });
    expect(await row(await effectIn("x1", "reject", 1))).toMatchObject({ status: "abandoned", attempts: 1, max_attempts: 1 });
  });

  it("refuses a claimed effect, whatever the page showed, and leaves it to its run", async () => {
    let reached!: () => void;
    const atProvider = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    held = { reached, release: new Promise<void>((r) => (release = r)) };
    modes.set("c1", "hold");
    const running = runJob({ job: fx, payload: { id: "c1", max: 8 }, trigger: "manual", oneTime: true }, deps);
    await atProvider;
    const key = `${fx}:c1`;
    const before = await row(key);
    expect(before.status).toBe("claimed");
    for (const action of ["retry", "made", "abandon"]) {
      expect(await resolve(key, action, "claimed", new Date())).toEqual({ ok: false, status: "claimed", error: `a claimed effect cannot be ${{ retry: "retried", made: "marked made", abandon: "abandoned" }[action]}` });
      expect(await resolve(key, action, "unknown", new Date())).toMatchObject({ ok: false, status: "claimed", error: "it is claimed now, not unknown: reload the page and decide again" });
    }
    expect(await row(key)).toEqual(before);
    release();
    held = undefined;
    expect(await running).toMatchObject({ status: "succeeded" });
    expect(await row(key)).toMatchObject({ status: "succeeded", attempts: 1, lease_until: null });
  });

  it("refuses a status the page did not show, an action not allowed from the status, an unknown action and a missing effect, changing nothing", async () => {
    const failed = await effectIn("f2", "reject");
    const abandoned = await effectIn("a2", "refuse");
    const succeeded = await effectIn("s2", "ok");
    const before = await sql()`select * from effects where key in (${failed}, ${abandoned}, ${succeeded}) order by key`;

    expect(await resolve(failed, "abandon", "unknown", new Date())).toEqual({ ok: false, status: "failed", error: "it is failed now, not unknown: reload the page and decide again" });
    expect(await resolve(failed, "retry", "", new Date())).toMatchObject({ ok: false, status: "failed" });
    // No status given is not a status seen: refused like any other.
    expect(await resolve(failed, "made", null, new Date())).toEqual({ ok: false, status: "failed", error: "it is failed now, not (no status given): reload the page and decide again" });
    // A retry without a time would never be due again (next_attempt_at null is never claimed).
    await expect(resolve(failed, "retry", "failed", null as unknown as Date)).rejects.toThrow(/needs the time of the decision/);
    expect(await resolve(abandoned, "abandon", "abandoned", new Date())).toEqual({ ok: false, status: "abandoned", error: "an abandoned effect cannot be abandoned" });
    for (const action of ["retry", "made", "abandon"]) expect(await resolve(succeeded, action, "succeeded", new Date())).toMatchObject({ ok: false, status: "succeeded" });
    await expect(resolve(failed, "delete", "failed", new Date())).rejects.toThrow(/retried, marked made or abandoned, not delete/);
    expect(await resolve(`${fx}:nothing`, "retry", "failed", new Date())).toEqual({ ok: false, error: "no such effect" });
    // Another job's effect (a forged form on a run's page): refused, whatever else is right.
    expect(await resolve(failed, "retry", "failed", new Date(), "checked", "another-job")).toEqual({ ok: false, status: "failed", error: `it is an effect of ${fx}, not of another-job` });
    expect(await resolve(failed, "retry", "failed", new Date(), "checked", null as unknown as string)).toMatchObject({ ok: false, error: `it is an effect of ${fx}, not of (no job given)` });

    expect(await sql()`select * from effects where key in (${failed}, ${abandoned}, ${succeeded}) order by key`).toEqual(before);
    expect(await sql()`select 1 from effects where key = ${`${fx}:nothing`}`).toHaveLength(0);
  });

  it("retry makes a failed effect due now, keeps an unknown one unknown, and gives an effect out of attempts one more", async () => {
    const now = new Date(Date.now() - 1000);
    const failed = await effectIn("f3", "reject");
    const unknown = await effectIn("u3", "lost");
    const spent = await effectIn("x3", "reject", 2);
    clock = new Date(clock.getTime() + 3_600_000);
    await runJob({ job: fx, payload: { id: "x3", max: 2 }, trigger: "manual", oneTime: true }, deps);
    const lastErrors = { failed: (await row(failed)).last_error, unknown: (await row(unknown)).last_error, spent: (await row(spent)).last_error };
    expect(await row(spent)).toMatchObject({ status: "abandoned", attempts: 2, finished_at: expect.any(Date) });

    expect(await resolve(failed, "retry", "failed", now)).toMatchObject({ ok: true, from: "failed", status: "failed" });
    expect(await row(failed)).toMatchObject({ status: "failed", attempts: 1, next_attempt_at: now, finished_at: null, last_error: lastErrors.failed, lease_until: null, updated_at: now });
    expect(await resolve(unknown, "retry", "unknown", now)).toMatchObject({ ok: true, from: "unknown", status: "unknown" });
    expect(await row(unknown)).toMatchObject({ status: "unknown", attempts: 1, next_attempt_at: now, finished_at: null, last_error: lastErrors.unknown });
    expect(await resolve(spent, "retry", "abandoned", now)).toMatchObject({ ok: true, from: "abandoned", status: "failed" });
    expect(await row(spent)).toMatchObject({ status: "failed", attempts: 1, max_attempts: 2, next_attempt_at: now, finished_at: null, last_error: lastErrors.spent });

    // Due now: the job's next run claims each again (the unknown one to reconcile first) and makes it.
    for (const id of ["f3", "u3", "x3"]) {
      modes.set(id, "ok");
      await runJob({ job: fx, payload: { id, max: id === "x3" ? 2 : 8 }, trigger: "manual", oneTime: true }, deps);
    }
    expect(await row(failed)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(await row(unknown)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(await row(spent)).toMatchObject({ status: "succeeded", attempts: 2, last_error: null });
  });

  it("made marks an unknown or abandoned effect succeeded; abandon keeps the person's note as the last error", async () => {
    const now = new Date(Date.now() - 1000);
    const unknown = await effectIn("u4", "lost");
    const abandoned = await effectIn("a4", "refuse");
    const failed = await effectIn("f4", "reject");
    expect(await resolve(unknown, "made", "unknown", now)).toMatchObject({ ok: true, from: "unknown", status: "succeeded" });
    expect(await row(unknown)).toMatchObject({ status: "succeeded", attempts: 1, next_attempt_at: null, finished_at: now });
    expect(await resolve(abandoned, "made", "abandoned", now)).toMatchObject({ ok: true, status: "succeeded" });
    expect(await row(abandoned)).toMatchObject({ status: "succeeded", next_attempt_at: null, finished_at: now });
    expect(await resolve(failed, "abandon", "failed", now, "abandoned by ana: the customer cancelled")).toMatchObject({ ok: true, status: "abandoned" });
    expect(await row(failed)).toMatchObject({ status: "abandoned", attempts: 1, next_attempt_at: null, finished_at: now, last_error: "abandoned by ana: the customer cancelled" });

    // None of them is made again by the job's next runs.
    const made = calls.length;
    for (const id of ["u4", "a4", "f4"]) {
      modes.set(id, "ok");
      await runJob({ job: fx, payload: { id, max: 8 }, trigger: "manual", oneTime: true }, deps);
    }
    expect(calls.length).toBe(made);
  });
});

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
};

describe("the run page's retry, end to end", () => {
  it("runs the job again with the run's payload once the cause is fixed: the charge is made once, and a second click is refused", async () => {
    const key = `${charge}:pay_1`;
    down = true;
    await runJob({ job: charge, payload: { payment: "pay_1" }, trigger: "manual", oneTime: true }, deps);
    clock = new Date(clock.getTime() + 3_600_000);
    const last = await runJob({ job: charge, payload: { payment: "pay_1" }, trigger: "manual", oneTime: true }, deps);
    expect(await row(key)).toMatchObject({ status: "abandoned", attempts: 2, max_attempts: 2, last_error: expect.stringContaining("422") });
    const runId = "runId" in last ? last.runId : "";
    expect(await sql()`select payload from job_runs where id = ${runId}`).toEqual([{ payload: { payment: "pay_1" } }]);

    down = false;
    const click = form({ run: runId, key, status: "abandoned", reason: "the processor is back" });
    const r = await effectAction("effect-retry", click, deps, client, "ana");
    const runs = await sql()<{ id: string; status: string; trigger: string; payload: unknown }[]>`select id, status, trigger, payload from job_runs where job = ${charge} order by started_at`;
    expect(runs).toHaveLength(3);
    const retried = runs[2]!;
    expect(retried).toMatchObject({ status: "succeeded", trigger: "manual", payload: { payment: "pay_1" } });
    expect(r).toEqual({ ok: true, notice: `${key} retried: run succeeded`, location: `/ops/runs/${retried.id}?notice=${encodeURIComponent(`${key} retried: run succeeded`)}#actions` });
    expect(await row(key)).toMatchObject({ status: "succeeded", attempts: 2, run_id: retried.id, last_error: null });
    const mine = calls.filter((c) => c.key === key);
    expect(mine.map((c) => c.made)).toEqual([false, false, true]);

    // The same click again (the page still showed abandoned): refused, nothing runs, nothing is sent.
    const again = await effectAction("effect-retry", click, deps, client, "ana");
    expect(again).toMatchObject({ ok: false, notice: `${key}: it is succeeded now, not abandoned: reload the page and decide again`, location: expect.stringMatching(new RegExp(`^/ops/runs/${runId}\\?error=`)) });
    expect(await sql()`select 1 from job_runs where job = ${charge}`).toHaveLength(3);
    expect(calls.filter((c) => c.key === key)).toHaveLength(3);

    // The action route records both, with the operator: the run page lists them under the effect.
    await recordAction(deps, "ana", "effect-retry", click, r);
    await recordAction(deps, "ana", "effect-retry", click, again);
    const actions = await sql()`select operator, action, run_id, effect_key, reason, ok, outcome from ops_actions where effect_key = ${key} order by id`;
    expect(actions).toEqual([
      { operator: "ana", action: "effect-retry", run_id: runId, effect_key: key, reason: "the processor is back", ok: true, outcome: r.notice },
      { operator: "ana", action: "effect-retry", run_id: runId, effect_key: key, reason: "the processor is back", ok: false, outcome: again.notice },
    ]);
    const detail = await deps.db.rpc<{ actions: { operator: string; ok: boolean }[] }>("ops_run_detail", { p_run_id: retried.id });
    expect(detail.actions.map((a) => [a.operator, a.ok])).toEqual([["ana", true], ["ana", false]]);
  });

  it("refuses a retry without a reason, and of an effect made already, running nothing", async () => {
    const [any] = await sql()<{ id: string }[]>`select id from job_runs where job = ${charge} order by started_at limit 1`;
    const key = `${charge}:pay_1`;
    expect(await effectAction("effect-retry", form({ run: any!.id, key, status: "succeeded", reason: "" }), deps, client, "ana")).toMatchObject({ ok: false, notice: expect.stringMatching(/^say why/) });
    expect(await effectAction("effect-retry", form({ run: any!.id, key, status: "succeeded", reason: "again please" }), deps, client, "ana")).toMatchObject({ ok: false, notice: `${key}: a succeeded effect cannot be retried` });
    expect(await sql()`select 1 from job_runs where job = ${charge}`).toHaveLength(3);
  });
});
