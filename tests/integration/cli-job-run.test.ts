import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { jobRunCommand } from "../../lib/cli/commands/job-run";
import { createCliContext } from "../../lib/cli/context";
import { UsageError } from "../../lib/cli/errors";
import { memoryIo } from "../../lib/cli/io";
import { NonRetryableError, ProviderError } from "../../lib/errors";
import { runEffects } from "../../lib/jobs/effects";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { runJob } from "../../lib/jobs/run";
import { ledger, testEnv, uniqueName } from "../support/app";

const n = { ok: uniqueName("cli-ok"), fail: uniqueName("cli-fail"), typed: uniqueName("cli-typed"), busy: uniqueName("cli-busy"), effects: uniqueName("cli-effects") };
let release!: () => void;
const gate = new Promise<void>((r) => (release = r));
const registry = createRegistry(
  [
    defineJob({ name: n.ok, description: "sends reminders", handler: async ({ run }) => ({ sent: 8, failed: 0, trigger: run.trigger }) }),
    defineJob({ name: n.fail, description: "t", handler: async () => Promise.reject(new NonRetryableError("expert has no connected account")) }),
    defineJob({
      name: n.typed,
      description: "calls a form",
      payload: z.object({ formId: z.uuid(), attempt: z.number().int().default(1) }),
      overlap: "allow",
      handler: async ({ payload }) => ({ formId: payload.formId, attempt: payload.attempt }),
    }),
    defineJob({ name: n.busy, description: "t", handler: async () => (await gate, { done: true }) }),
    defineJob({
      name: n.effects,
      description: "pays three experts: one accepted, one rejected, one lost in a gateway timeout",
      handler: async (ctx) => {
        const c = await runEffects(ctx, {
          due: async ({ after }) => (after === undefined ? ["a", "b", "c"] : []),
          key: (x) => `pay:${x}`,
          work: async (x) => {
            if (x === "b") throw new ProviderError("Stripe", "HTTP 400: no such account", 400);
            if (x === "c") throw new ProviderError("Stripe", "HTTP 504: gateway timeout", 504);
            return { id: `po_${x}` };
          },
          maxAttempts: 1,
        });
        return { paid: c.succeeded, failed: c.failed + c.abandoned, unknown: c.unknown };
      },
    }),
  ],
  [],
);
const contexts: ReturnType<typeof createCliContext>[] = [];
function cli() {
  const io = memoryIo();
  const ctx = createCliContext({ env: testEnv(), registry, io });
  contexts.push(ctx);
  return { ctx, io };
}
afterAll(async () => {
  for (const c of contexts) await c.close();
});

describe("pnpm job:run (in-process)", () => {
  it("runs the job through the ledger with trigger cli and prints its stats line", async () => {
    const { ctx, io } = cli();
    expect(await jobRunCommand(ctx, n.ok)).toBe(0);
    const [row] = await ledger(n.ok);
    expect(row).toMatchObject({ trigger: "cli", status: "succeeded", stats: { sent: 8, failed: 0, trigger: "cli" }, message_id: null, slot_at: null });
    expect(io.stdout()).toMatch(new RegExp(`^${n.ok} succeeded in \\d+ ms \\(run ${row!.id}\\): sent 8, failed 0, trigger cli\\n$`));
  });

  it("shows the job's effects by status after the run, and the ones that need a person", async () => {
    const { ctx, io } = cli();
    expect(await jobRunCommand(ctx, n.effects)).toBe(0);
    const out = io.stdout().split("\n");
    expect(out[0]).toMatch(/succeeded in .*: paid 1, failed 2, unknown 0$/);
    // With one attempt allowed, the rejected and the unknown one both end abandoned.
    expect(out[1]).toBe("effects   succeeded 1 · abandoned 2");
    expect(out.slice(2, 4).sort()).toEqual([
      expect.stringMatching(/^ {2}needs a person: pay:b abandoned after 1 attempt \(out of attempts: .*\): ProviderError: Stripe: HTTP 400: no such account$/),
      expect.stringMatching(/^ {2}needs a person: pay:c abandoned after 1 attempt .*HTTP 504: gateway timeout$/),
    ]);
    const json = cli();
    expect(await jobRunCommand(json.ctx, n.effects, { json: true })).toBe(0);
    expect(JSON.parse(json.io.stdout())).toMatchObject({ status: "succeeded", stats: { paid: 0 }, effects: { counts: { succeeded: 1, abandoned: 2 } } });
  });

  it("exits 1 on failure, with the error, and records the failure in the ledger", async () => {
    const { ctx, io } = cli();
    expect(await jobRunCommand(ctx, n.fail)).toBe(1);
    const [row] = await ledger(n.fail);
    expect(row).toMatchObject({ trigger: "cli", status: "failed", error: { name: "NonRetryableError", message: "expert has no connected account" } });
    expect(io.stderr()).toContain(`error: ${n.fail} failed after`);
    expect(io.stderr()).toContain(`(run ${row!.id}): NonRetryableError: expert has no connected account`);
    expect(io.stdout()).toBe("");
  });

  it("parses --payload with the job's schema (defaults applied)", async () => {
    const { ctx, io } = cli();
    const formId = "6f1c2a4e-8b7d-4c3e-9a1f-2b3c4d5e6f70";
    expect(await jobRunCommand(ctx, n.typed, { payload: JSON.stringify({ formId }), json: true })).toBe(0);
    const out = JSON.parse(io.stdout()) as { runId: string; status: string; stats: unknown };
    expect(out).toEqual({ job: n.typed, runId: expect.any(String), status: "succeeded", stats: { formId, attempt: 1 } });
    expect((await ledger(n.typed)).map((r) => r.id)).toEqual([out.runId]);
  });

  it("refuses a bad payload or bad JSON with a usage error that names the field, and opens no run", async () => {
    const { ctx } = cli();
    await expect(jobRunCommand(ctx, n.typed, { payload: '{"formId":"nope"}' })).rejects.toThrow(UsageError);
    await expect(jobRunCommand(ctx, n.typed, { payload: '{"formId":"nope"}' })).rejects.toThrow(`--payload for ${n.typed}: formId: Invalid UUID`);
    await expect(jobRunCommand(ctx, n.typed, { payload: "{formId:" })).rejects.toThrow(/--payload for .*: the body is not JSON/);
    await expect(jobRunCommand(ctx, "no-such-job")).rejects.toThrow(/unknown job "no-such-job". Jobs: .*cli-ok/);
    expect((await ledger(n.typed)).length).toBe(1); // only the run of the test above
  });

  it("--dry-run shows the job, the parsed payload and the settings, and opens no run", async () => {
    const { ctx, io } = cli();
    const name = n.typed;
    const before = (await ledger(name)).length;
    expect(await jobRunCommand(ctx, name, { payload: '{"formId":"6f1c2a4e-8b7d-4c3e-9a1f-2b3c4d5e6f70"}', dryRun: true })).toBe(0);
    expect(io.stdout()).toBe(
      [
        `would run ${name}: calls a form`,
        '  payload   {"formId":"6f1c2a4e-8b7d-4c3e-9a1f-2b3c4d5e6f70","attempt":1}',
        "  timeout   1m 0s, overlap allow",
        "  fan-out   published to QStash",
        "  ledger    a run with trigger cli in job_runs on DATABASE_URL",
        "Dry run: no run was opened.",
        "",
      ].join("\n"),
    );
    expect((await ledger(name)).length).toBe(before);
  });

  it("--dry-run with --in-process and --timeout shows where the fan-out goes and the run's own timeout; a bad timeout is exit 2", async () => {
    const { ctx, io } = cli();
    const payload = '{"formId":"6f1c2a4e-8b7d-4c3e-9a1f-2b3c4d5e6f70"}';
    expect(await jobRunCommand(ctx, n.typed, { payload, dryRun: true, inProcess: true, timeout: "90m" })).toBe(0);
    expect(io.stdout()).toContain("  timeout   1h 30m");
    expect(io.stdout()).toContain("  fan-out   in this process (each item a run here, at its flow control)");
    await expect(jobRunCommand(ctx, n.typed, { payload, timeout: "soon" })).rejects.toThrow('--timeout must be a duration of at least 1s, such as 30m or 2h, got "soon"');
  });

  it("says skipped (exit 0) while another run of the job holds the lease", async () => {
    const first = cli();
    const holding = runJob({ job: n.busy, payload: {}, trigger: "manual" }, first.ctx.deps());
    await expect.poll(async () => (await ledger(n.busy)).map((r) => r.status)).toEqual(["running"]);
    const { ctx, io } = cli();
    expect(await jobRunCommand(ctx, n.busy)).toBe(0);
    expect(io.stdout()).toMatch(/skipped \(run .*\): another run of it holds the lease \(overlap: skip\); nothing was done\./);
    release();
    await holding;
    expect((await ledger(n.busy)).map((r) => [r.trigger, r.status])).toEqual([
      ["manual", "succeeded"],
      ["cli", "skipped"],
    ]);
  });
});
