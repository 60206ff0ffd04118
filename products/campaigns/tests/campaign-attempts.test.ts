import { afterEach, describe, expect, it } from "vitest";
import { sql } from "../../../tests/support/app";
import { vendors } from "../../../tests/support/vendors";
import { resendError } from "../../../tests/mocks/resend";
import { eventsOf, runsOf, startCampaignApp, type CampaignApp } from "./support";

/**
 * How a node is attempted and how fast nodes start, through the local QStash server on its manual
 * clock (every instant below is exact): 3 attempts 1 s then 2 s apart, a dead letter after the
 * third, the timeout's completed_at, one execution rate for the whole queue, and the node logs.
 */
const T0 = new Date("2027-01-11T08:00:00Z"); // a Monday
const AT = new Date(T0.getTime() + 60_000);
const EMAIL = { name: "one", nodes: [{ id: "hello", type: "email", config: { subject: "Hi", text: "Hi" }, timeoutSeconds: 3600 }] };
const WAIT = (name: string) => ({ name, nodes: [{ id: "tick", type: "wait", config: { seconds: 0 } }] });
const users = (n: number, p = "r") => Array.from({ length: n }, (_, i) => ({ userId: `u${i}`, productUserId: `${p}${i}`, email: `${p}${i}@example.test` }));

let app: CampaignApp;
afterEach(() => app?.close());

describe("a node that keeps failing", () => {
  it("is attempted exactly 3 times, 1 s then 2 s apart, dead-lettered after the third, and TIMEOUT with completed_at at its timeout", { timeout: 30_000 }, async () => {
    // Only the campaign's sends fail: the dead letter's alert email goes through.
    const sent = vendors({ resend: { respond: (c) => (c.idempotencyKey?.startsWith("campaign:") ? resendError(500, "internal_server_error", "try again") : undefined) } });
    app = await startCampaignApp(T0);
    const id = (await app.api("POST", "/api/campaigns", EMAIL)).body.id as string;
    expect((await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: users(1), at: AT.toISOString() })).status).toBe(202);
    await app.rig.clock.advance(10 * 60_000);

    const key = `campaign:${id}:hello:r0`;
    expect(sent.resend.filter((c) => c.idempotencyKey === key)).toHaveLength(3);
    const at = (ms: number) => new Date(AT.getTime() + ms).toISOString();
    const story = (await eventsOf(id, "r0")).map((e) => [e.from, e.to, e.at.toISOString(), e.attempt, e.error_type]);
    expect(story).toEqual([
      [null, "PENDING", T0.toISOString(), null, null],
      ["PENDING", "RUNNING", at(0), 0, null],
      ["RUNNING", "FAILED", at(0), 0, "ProviderError"],
      ["FAILED", "RUNNING", at(1000), 1, null],
      ["RUNNING", "FAILED", at(1000), 1, "ProviderError"],
      ["FAILED", "RUNNING", at(3000), 2, null],
      ["RUNNING", "FAILED", at(3000), 2, "ProviderError"],
    ]);
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ state: "FAILED", attempts: 3, didTimeout: false, completedAt: null, lastErrorType: "ProviderError" });

    // QStash gave up after the third attempt: its DLQ holds the message, the app recorded the dead letter.
    expect(app.rig.server.state.dlq.map((d) => [d.message.messageId, d.message.retried, d.message.retries])).toEqual([[run!.executeMessageId, 2, 2]]);
    expect(await sql()`select job, retried, max_retries, response_status from dead_letters where source_message_id = ${run!.executeMessageId}`).toEqual([
      { job: "campaign-node-execute", retried: 2, max_retries: 2, response_status: 500 },
    ]);

    const failed = app.logs.filter((l) => l.event === "campaign.node.failed");
    expect(failed.map((l) => [l.level, l.campaignId, l.nodeId, l.productUserId, l.attempt, l.attempts, l.maxAttempts, l.lastAttempt, l.elapsedMs])).toEqual([
      ["warn", id, "hello", "r0", 1, 1, 3, false, 0],
      ["warn", id, "hello", "r0", 2, 2, 3, false, 1000],
      ["error", id, "hello", "r0", 3, 3, 3, true, 3000],
    ]);
    for (const l of failed) {
      expect(l.durationMs).toEqual(expect.any(Number));
      expect(l.error).toMatchObject({ name: "ProviderError" });
    }

    // The timeout gives the node up an hour after its instant, and records when.
    await app.rig.clock.advanceTo(new Date(AT.getTime() + 3600_000 + 60_000));
    const timeoutAt = at(3600_000);
    expect((await runsOf(id))[0]).toMatchObject({ state: "TIMEOUT", didTimeout: true, timeoutAt: expect.any(String), completedAt: expect.any(String), attempts: 3 });
    const done = (await runsOf(id))[0]!;
    expect(new Date(done.completedAt!).toISOString()).toBe(timeoutAt);
    const timedOut = app.logs.filter((l) => l.event === "campaign.node.timed_out");
    expect(timedOut.map((l) => [l.campaignId, l.nodeId, l.productUserId, l.attempts, l.didTimeout, l.sinceRunAtMs])).toEqual([[id, "hello", "r0", 3, true, 3600_000]]);
  });
});

describe("a node that fails once", () => {
  it("completes on its second attempt a second later, and its log says so", { timeout: 30_000 }, async () => {
    vendors({ resend: { respond: (_, n) => (n === 1 ? resendError(500, "internal_server_error", "try again") : undefined) } });
    app = await startCampaignApp(T0);
    const id = (await app.api("POST", "/api/campaigns", EMAIL)).body.id as string;
    await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: users(1), at: AT.toISOString() });
    await app.rig.clock.advance(10 * 60_000);

    expect((await runsOf(id))[0]).toMatchObject({ state: "COMPLETED", attempts: 2 });
    const completed = app.logs.filter((l) => l.event === "campaign.node.completed");
    expect(completed.map((l) => [l.level, l.campaignId, l.nodeId, l.productUserId, l.attempt, l.attempts, l.elapsedMs])).toEqual([["info", id, "hello", "r0", 2, 2, 1000]]);
    expect(completed[0]!.durationMs).toEqual(expect.any(Number));
  });
});

describe("the execution rate", () => {
  it("holds for the whole queue: two campaigns due together start 2 a second between them, not 2 each", { timeout: 30_000 }, async () => {
    app = await startCampaignApp(T0, { CAMPAIGN_EXECUTION_RATE: "2" });
    const a = (await app.api("POST", "/api/campaigns", WAIT("a"))).body.id as string;
    const b = (await app.api("POST", "/api/campaigns", WAIT("b"))).body.id as string;
    // Planned one after the other: the queue serves them in that order (see the README).
    expect((await app.api("POST", `/api/campaigns/${a}/runs`, { nodeId: "tick", users: users(4, "a"), at: AT.toISOString() })).status).toBe(202);
    expect((await app.api("POST", `/api/campaigns/${b}/runs`, { nodeId: "tick", users: users(4, "b"), at: AT.toISOString() })).status).toBe(202);
    await app.rig.clock.advance(10 * 60_000);

    const lags = async (id: string) => (await runsOf(id)).map((r) => [r.state, r.started_at!.getTime() - AT.getTime()]).sort((x, y) => Number(x[1]) - Number(y[1]));
    const both = [...(await lags(a)), ...(await lags(b))];
    expect(both.every(([state]) => state === "COMPLETED")).toBe(true);
    // Per second of the clock, across both campaigns: never more than the rate.
    const perSecond = new Map<number, number>();
    for (const [, lag] of both) perSecond.set(Math.floor(Number(lag) / 1000), (perSecond.get(Math.floor(Number(lag) / 1000)) ?? 0) + 1);
    expect([...perSecond.entries()].sort((x, y) => x[0] - y[0])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    expect(await lags(a)).toEqual([0, 0, 1000, 1000].map((l) => ["COMPLETED", l]));
    expect(await lags(b)).toEqual([2000, 2000, 3000, 3000].map((l) => ["COMPLETED", l]));
  });
});
