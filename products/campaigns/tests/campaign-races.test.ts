import { afterEach, describe, expect, it } from "vitest";
import { jobRoute } from "@/lib/http/job-route";
import { params, qstashRequest } from "../../../tests/support/app";
import { eventsOf, runsOf, startCampaignApp, type CampaignApp } from "./support";
import { vendors } from "../../../tests/support/vendors";
import { resendError } from "../../../tests/mocks/resend";

const T0 = new Date("2027-01-11T08:00:00Z"); // a Monday
const ONE_EMAIL = { name: "one", nodes: [{ id: "hello", type: "email", config: { subject: "Hi", text: "Hi" }, timeoutSeconds: 60 }] };
const users = (n: number) => Array.from({ length: n }, (_, i) => ({ userId: `u${i}`, productUserId: `r${i}`, email: `r${i}@example.test` }));

let app: CampaignApp;
afterEach(() => app?.close());

describe("campaign-node-timeout racing a late campaign-node-execute", () => {
  it("leaves exactly one of COMPLETED or TIMEOUT for every run, whichever order they land in", { timeout: 30_000 }, async () => {
    const sent = vendors({ resend: { delayMs: 5 } });
    app = await startCampaignApp(T0);
    const id = (await app.api("POST", "/api/campaigns", ONE_EMAIL)).body.id as string;
    const at = new Date(T0.getTime() + 3_600_000);
    expect((await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: users(40), at: at.toISOString() })).status).toBe(202);

    // Both arrive two minutes after the timeout was due (the execution is late), at the same moment.
    const late = { ...app.deps(), clock: () => new Date(at.getTime() + 120_000) };
    const route = jobRoute("jobs", async () => late);
    const deliver = async (job: string, u: { userId: string; productUserId: string }) => {
      const body = JSON.stringify({ campaignId: id, nodeId: "hello", userId: u.userId, productUserId: u.productUserId });
      const res = await route.POST(qstashRequest(`/api/jobs/${job}`, body, { url: `${app.url}/api/jobs/${job}` }), params(job));
      return res.status;
    };
    // A third land together (either first); a third have the timeout answered first, a third the
    // execution, so both outcomes occur however slow the machine is.
    const statuses = await Promise.all(
      users(40).map(async (u, i) => {
        const execute = () => deliver("campaign-node-execute", u);
        const timeout = () => deliver("campaign-node-timeout", u);
        if (i % 3 === 1) return [await timeout(), await execute()];
        if (i % 3 === 2) return [await execute(), await timeout()];
        return Promise.all(i % 2 ? [execute(), timeout()] : [timeout(), execute()]);
      }),
    );
    expect(statuses.flat().every((s) => s === 200)).toBe(true);

    const runs = await runsOf(id);
    const keys = sent.resend.map((c) => c.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(runs).toHaveLength(40);
    expect(runs.some((r) => r.state === "COMPLETED") && runs.some((r) => r.state === "TIMEOUT")).toBe(true);
    for (const r of runs) {
      expect(["COMPLETED", "TIMEOUT"]).toContain(r.state);
      expect(r.didTimeout).toBe(r.state === "TIMEOUT");
      // Either way the node ended, and says when: the moment the winning delivery arrived.
      expect(r.completedAt && new Date(r.completedAt).toISOString()).toBe(new Date(at.getTime() + 120_000).toISOString());
      const events = await eventsOf(id, r.productUserId);
      const terminal = events.filter((e) => e.from !== e.to && (e.to === "COMPLETED" || e.to === "TIMEOUT"));
      expect(terminal.map((e) => e.to)).toEqual([r.state]);
      // A completed run sent its email; one that timed out before it started sent none.
      const mine = keys.filter((k) => k === `campaign:${id}:hello:${r.productUserId}`).length;
      if (r.state === "COMPLETED") expect(mine).toBe(1);
      if (r.state === "TIMEOUT" && !events.some((e) => e.to === "RUNNING")) expect(mine).toBe(0);
    }
  });
});

describe("a failing send", () => {
  it("is FAILED, retried by QStash to COMPLETED, and counted by error type; executions start at the flow-control rate", { timeout: 30_000 }, async () => {
    const sent = vendors({ resend: { respond: (c, n) => (n === 1 ? resendError(500, "internal_server_error", "try again") : undefined) } });
    app = await startCampaignApp(T0, { CAMPAIGN_EXECUTION_RATE: "1" });
    const id = (await app.api("POST", "/api/campaigns", { ...ONE_EMAIL, nodes: [{ ...ONE_EMAIL.nodes[0], timeoutSeconds: 3600 }] })).body.id as string;
    const at = new Date(T0.getTime() + 60_000);
    await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: users(3), at: at.toISOString() });
    await app.rig.clock.advance(10 * 60_000);

    const runs = await runsOf(id);
    expect(runs.map((r) => r.state)).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
    // One a second from the run's instant. The failed one's retry is due 1 s after its failure
    // and waits for flow control like any execution: it takes the third second, the last user the fourth.
    expect(runs.map((r) => r.started_at!.getTime() - at.getTime()).sort()).toEqual([0, 1000, 3000]);
    const failed = sent.resend[0]!.idempotencyKey!.split(":").at(-1)!;
    const story = (await eventsOf(id, failed)).map((e) => [e.from, e.to, e.attempt, e.error_type]);
    expect(story).toEqual([
      [null, "PENDING", null, null],
      ["PENDING", "RUNNING", 0, null],
      ["RUNNING", "FAILED", 0, "ProviderError"],
      ["FAILED", "RUNNING", 1, null],
      ["RUNNING", "COMPLETED", 1, null],
    ]);
    expect(sent.resend.filter((c) => c.idempotencyKey === `campaign:${id}:hello:${failed}`)).toHaveLength(2);

    const { body } = await app.api("GET", `/api/campaigns/${id}`);
    expect(body.stats).toMatchObject({ runs: 3, attempts: 4, failures: [{ type: "ProviderError", count: 1, rate: 0.25 }], medianLagMs: 1000 });
  });
});
