import { spawn } from "node:child_process";
import { delay, http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Db, RpcOptions } from "../../lib/db/types";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { defineProductProviders } from "../../lib/products";
import { server } from "../mocks/server";
import { testDatabaseUrl } from "../support/db";
import { ledger, params, qstashRequest, testDeps, uniqueName } from "../support/app";
import { VENDOR_ENV } from "../support/vendors";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function routes(deps: RunDeps) {
  const jobs = jobRoute("jobs", async () => deps);
  const cron = jobRoute("cron", async () => deps);
  return {
    message: (job: string, messageId: string, body = "{}", retried = 0) => jobs.POST(qstashRequest(`/api/jobs/${job}`, body, { messageId, retried }), params(job)),
    tick: (job: string) => cron.POST(qstashRequest(`/api/cron/${job}`, "{}", { scheduleId: `test-${job}` }), params(job)),
  };
}

describe("run leases: short, renewed while the handler runs", () => {
  it("never runs a second copy beside a handler that ignores its signal past its timeout", async () => {
    const name = uniqueName("overdue");
    let calls = 0;
    const job = defineJob({
      name,
      description: "t",
      timeoutMs: 300,
      handler: async () => {
        calls += 1;
        await sleep(2500); // ignores its signal on purpose
        return { late: true };
      },
    });
    const deps = testDeps([job], [{ job: name, cron: "* * * * *" }]);
    deps.lease = { leaseMs: 1000, renewMs: 250 };
    const { message, tick } = routes(deps);

    const first = await message(name, "msg_overdue");
    expect(first.status).toBe(500);
    expect(await first.json()).toMatchObject({ status: "failed", name: "TimeoutError" });
    // Past the timeout and past one lease: only renewals can still hold the job.
    await sleep(1300);
    const again = await message(name, "msg_overdue", "{}", 1);
    expect(again.status).toBe(429);
    // The run is past its expected end: come back once it has settled or its lease lapsed.
    expect(again.headers.get("retry-after")).toBe("1");
    expect(await (await tick(name)).json()).toMatchObject({ status: "skipped" });
    expect(calls).toBe(1);
    expect((await ledger(name)).find((r) => r.message_id === "msg_overdue")?.status).toBe("running");

    await expect.poll(async () => (await ledger(name)).find((r) => r.message_id === "msg_overdue")?.status, { timeout: 5000 }).toBe("failed");
    const [row] = (await ledger(name)).filter((r) => r.message_id === "msg_overdue");
    expect(row!.error).toMatchObject({ name: "TimeoutError", handler: { status: "succeeded", stats: { late: true } } });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(2490);
    // Settled and recorded as failed: QStash's next retry runs it again, alone.
    const retry = await message(name, "msg_overdue", "{}", 2);
    expect(retry.status).toBe(500);
    expect(calls).toBe(2);
  });

  it("frees the job of a process killed mid-run within one short lease", { timeout: 30_000 }, async () => {
    const name = uniqueName("killed");
    const leaseMs = 2000;
    const child = spawn(process.execPath, ["--import", "tsx", "tests/support/hang-run.ts", testDatabaseUrl(), name, "msg_killed", String(leaseMs), "500"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const runId = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        const m = /started (\S+)/.exec(c.toString());
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`the child exited (${code}) before its run started: ${stderr}`)));
    });
    // Let it renew a few times, so the lease it leaves behind is a renewed one.
    await sleep(1500);
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();

    let calls = 0;
    const job = defineJob({ name, description: "t", timeoutMs: 120_000, handler: async () => ({ calls: ++calls }) });
    const deps = testDeps([job]);
    const { message } = routes(deps);
    const during = await message(name, "msg_killed", "{}", 1);
    expect(during.status).toBe(429);
    // The job's timeout (120 s) is far off: the redelivery is told when the run should end.
    expect(Number(during.headers.get("retry-after"))).toBeGreaterThan(100);
    expect(calls).toBe(0);

    let res: Response;
    for (;;) {
      res = await message(name, "msg_killed", "{}", 2);
      if (res.status !== 429 || Date.now() - killedAt > 15_000) break;
      await sleep(200);
    }
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded" });
    expect(Date.now() - killedAt).toBeLessThan(leaseMs + 3000);
    expect(calls).toBe(1);
    const dead = (await ledger(name)).find((r) => r.id === runId)!;
    expect(dead).toMatchObject({ status: "failed", error: { name: "LeaseExpired" } });
  });

  it("passes the run's signal to the handler's database and provider calls", { timeout: 30_000 }, async () => {
    const name = uniqueName("signal");
    const seen: { signal?: AbortSignal; dbSignals: (AbortSignal | undefined)[]; results?: PromiseSettledResult<unknown>[]; afterMs?: number } = { dbSignals: [] };
    const vendorRequests: string[] = [];
    // A product's own vendor, as a product builds one from the layer's kit (the marketplace's Stripe
    // gets the same test in its folder): it passes on the signal it is given, and no other.
    const vendor = defineProductProviders(
      "signal-test",
      () => ({
        transfers: () => ({
          create: async (r: { amount: number }, signal?: AbortSignal) =>
            (await fetch("https://vendor.example.test/v1/transfers", { method: "POST", body: JSON.stringify(r), signal })).json(),
        }),
      }),
      () => ({ transfers: true }),
    );
    server.use(
      http.post("https://vendor.example.test/v1/transfers", async ({ request }) => (vendorRequests.push(request.url), await delay("infinite"), HttpResponse.json({}))),
      http.post("https://api.resend.com/emails", async ({ request }) => (vendorRequests.push(request.url), await delay("infinite"), HttpResponse.json({}))),
    );
    const job = defineJob({
      name,
      description: "t",
      timeoutMs: 300,
      handler: async ({ db, providers, signal }) => {
        seen.signal = signal;
        await db.rpc("cronlayer_ping");
        const started = Date.now();
        // Neither call passes a signal, as a job that forgot to would.
        seen.results = await Promise.allSettled([
          vendor.of(providers).transfers().create({ amount: 100 }),
          providers.email().send({ to: "a@example.test", subject: "s", text: "t", html: "<p>t</p>", idempotencyKey: `e-${name}` }),
        ]);
        seen.afterMs = Date.now() - started;
      },
    });
    const base = testDeps([job], [], VENDOR_ENV);
    const db: Db = {
      ...base.db,
      kind: base.db.kind,
      rpc: <T>(fn: string, args?: Record<string, unknown>, opts?: RpcOptions) => {
        if (fn === "cronlayer_ping") seen.dbSignals.push(opts?.signal);
        return base.db.rpc<T>(fn, args, opts);
      },
    };
    const out = await runJob({ job: name, payload: {}, trigger: "cli" }, { ...base, db });
    expect(out).toMatchObject({ status: "failed", error: { name: "TimeoutError" } });
    expect(seen.dbSignals).toHaveLength(1);
    expect(seen.dbSignals[0]).toBe(seen.signal);
    expect(vendorRequests.sort()).toEqual(["https://api.resend.com/emails", "https://vendor.example.test/v1/transfers"]);
    // Both requests stopped at the run's timeout, not at a vendor timeout or never.
    expect(seen.results!.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(seen.afterMs).toBeLessThan(5000);
  });
});

describe("one-time messages are never skipped", () => {
  it("runs a message while a scheduled tick of its job holds the lease, and skips only the next tick", async () => {
    const name = uniqueName("mixed");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const triggers: string[] = [];
    const job = defineJob({
      name,
      description: "t",
      overlap: "skip",
      handler: async ({ run }) => {
        triggers.push(run.scheduleId ? "tick" : "message");
        if (run.scheduleId) await gate;
      },
    });
    const deps = testDeps([job], [{ job: name, cron: "* * * * *" }]);
    const { message, tick } = routes(deps);
    const holding = tick(name);
    await expect.poll(async () => (await ledger(name)).map((r) => r.status)).toEqual(["running"]);
    const msg = await message(name, "msg_mixed");
    expect(await msg.json()).toMatchObject({ status: "succeeded" });
    expect(await (await tick(name)).json()).toMatchObject({ status: "skipped" });
    release();
    expect((await holding).status).toBe(200);
    expect(triggers).toEqual(["tick", "message"]);
  });

  it("makes a message wait (429 + Retry-After) where the job limits runs per key, and runs other keys", async () => {
    const name = uniqueName("per-form");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const job = defineJob({
      name,
      description: "t",
      timeoutMs: 60_000,
      payload: z.object({ formId: z.string() }),
      concurrency: { limit: 1, key: (p) => p.formId },
      handler: async ({ payload }) => {
        ran.push(payload.formId);
        if (payload.formId === "a") await gate;
      },
    });
    const deps = testDeps([job]);
    const { message } = routes(deps);
    const first = message(name, "msg_a1", JSON.stringify({ formId: "a" }));
    await expect.poll(() => ran).toEqual(["a"]);
    const waiting = await message(name, "msg_a2", JSON.stringify({ formId: "a" }));
    expect(waiting.status).toBe(429);
    expect(await waiting.json()).toMatchObject({ status: "waiting" });
    // Near the holder's expected end (its 60 s timeout), not a fixed or lease-long wait.
    expect(Number(waiting.headers.get("retry-after"))).toBeGreaterThan(50);
    expect(Number(waiting.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    const other = await message(name, "msg_b1", JSON.stringify({ formId: "b" }));
    expect(await other.json()).toMatchObject({ status: "succeeded" });
    release();
    expect((await first).status).toBe(200);
    const retried = await message(name, "msg_a2", JSON.stringify({ formId: "a" }), 1);
    expect(await retried.json()).toMatchObject({ status: "succeeded" });
    expect(ran).toEqual(["a", "b", "a"]);
    expect((await ledger(name)).map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
  });
});
