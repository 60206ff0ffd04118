import { afterEach, describe, expect, it, vi } from "vitest";
import { qstashRequest } from "../../../tests/support/app";
import { eventsOf, runsOf, startCampaignApp, THREE_NODES, type CampaignApp } from "./support";
import { vendors } from "../../../tests/support/vendors";

/**
 * A three-node campaign (email -> wait an hour -> in-app notification) through the local QStash
 * server on a manual clock, delivered over HTTP to the real job route. Sends are counted at the
 * Resend and Novu mocks. T0 is Saturday 2027-01-09 12:00 UTC: every user's email goes out on
 * Monday at 09:00 in the user's zone (the campaign's, UTC, for a user without one); the wait of 8
 * hours ends at 17:00 local, closed, so the notification goes out on Tuesday at 09:00. The instants
 * are written out by hand.
 */
const T0 = new Date("2027-01-09T12:00:00Z");
const ZONES: [zone: string | undefined, email: string, nudge: string][] = [
  [undefined, "2027-01-11T09:00:00+00:00", "2027-01-12T09:00:00+00:00"],
  ["Asia/Kolkata", "2027-01-11T09:00:00+05:30", "2027-01-12T09:00:00+05:30"],
  ["America/Los_Angeles", "2027-01-11T09:00:00-08:00", "2027-01-12T09:00:00-08:00"],
  ["Europe/Berlin", "2027-01-11T09:00:00+01:00", "2027-01-12T09:00:00+01:00"],
  ["Pacific/Chatham", "2027-01-11T09:00:00+13:45", "2027-01-12T09:00:00+13:45"],
];
const END = new Date("2027-01-13T00:00:00Z");
const users = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    userId: `user-${i}`,
    productUserId: `p${String(i).padStart(3, "0")}`,
    email: `p${i}@example.test`,
    name: `User ${i}`,
    ...(ZONES[i % ZONES.length]![0] && { zone: ZONES[i % ZONES.length]![0] }),
  }));
const ms = (iso: string) => new Date(iso).getTime();

let app: CampaignApp;
afterEach(async () => {
  vi.restoreAllMocks();
  await app?.close();
});

async function launch(n: number, env: Record<string, string> = {}) {
  app = await startCampaignApp(T0, env);
  const created = await app.api("POST", "/api/campaigns", THREE_NODES);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const scheduled = await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "welcome_email", users: users(n), businessHours: true });
  expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(202);
  expect(scheduled.body).toMatchObject({ planned: n, existing: 0 });
  return id;
}

describe("a three-node campaign", () => {
  it("runs each node once per user at its business-hours instant, across an app restart", { timeout: 60_000 }, async () => {
    const sent = vendors();
    const id = await launch(100);
    const planned = await runsOf(id);
    expect(planned).toHaveLength(100);
    // Executions share one flow-control key for the whole queue, at the configured rate (default
    // 1,000/s), and are attempted 3 times (2 retries), 1 s then 2 s apart.
    expect(await app.rig.client.messages.get(planned[0]!.executeMessageId!)).toMatchObject({
      flowControlKey: "test-campaign-executions",
      rate: 1000,
      period: 1,
      maxRetries: 2,
      retryDelayExpression: "pow(2, retried) * 1000",
    });

    // The app restarts between scheduling and execution: QStash keeps the messages, the state is in PostgreSQL.
    app.restart();
    await app.rig.clock.advanceTo(END);

    const runs = await runsOf(id);
    expect(runs).toHaveLength(300);
    for (const [i, u] of users(100).entries()) {
      const [, email, nudge] = ZONES[i % ZONES.length]!;
      const mine = runs.filter((r) => r.productUserId === u.productUserId);
      expect(mine.map((r) => [r.nodeId, r.state, r.attempts, r.runAt && ms(r.runAt), r.started_at?.getTime()])).toEqual([
        ["nudge", "COMPLETED", 1, ms(nudge), ms(nudge)],
        ["pause", "COMPLETED", 1, ms(email), ms(email)],
        ["welcome_email", "COMPLETED", 1, ms(email), ms(email)],
      ]);
    }
    expect(sent.resend).toHaveLength(100);
    expect(new Set(sent.resend.map((c) => c.idempotencyKey))).toEqual(new Set(users(100).map((u) => `campaign:${id}:welcome_email:${u.productUserId}`)));
    expect(sent.resend[0]!.body).toMatchObject({ subject: "Welcome", text: "Hello there" });
    expect(sent.novu).toHaveLength(100);
    expect(new Set(sent.novu.map((c) => c.body.to.subscriberId))).toEqual(new Set(users(100).map((u) => u.productUserId)));
    expect(new Set(sent.novu.map((c) => c.body.transactionId)).size).toBe(100);
    // Every timeout was cancelled when its node completed: nothing is left at QStash.
    expect(Object.keys(app.rig.server.state.messages)).toEqual([]);

    const stats = await app.api("GET", `/api/campaigns/${id}`);
    expect(stats.body.stats).toMatchObject({ runs: 300, states: { COMPLETED: 300, PENDING: 0, FAILED: 0, TIMEOUT: 0 }, attempts: 300, failures: [], medianLagMs: 0 });
  });

  it("tells one user's story as clean transitions, and a duplicate delivery changes nothing", { timeout: 30_000 }, async () => {
    const sent = vendors();
    const id = await launch(5);
    await app.rig.clock.advanceTo(END);
    const berlin = "p003";
    const runs = await runsOf(id);
    const msg = (node: string) => runs.find((r) => r.productUserId === berlin && r.nodeId === node)!.executeMessageId;
    const story = (await eventsOf(id, berlin)).map((e) => [e.node, e.from, e.to, e.at.toISOString(), e.attempt, e.message_id, e.note]);
    const email = "2027-01-11T08:00:00.000Z";
    const nudge = "2027-01-12T08:00:00.000Z";
    expect(story).toEqual([
      ["welcome_email", null, "PENDING", T0.toISOString(), null, null, null],
      ["welcome_email", "PENDING", "RUNNING", email, 0, msg("welcome_email"), null],
      ["welcome_email", "RUNNING", "COMPLETED", email, 0, msg("welcome_email"), null],
      ["pause", null, "PENDING", email, null, null, null],
      ["pause", "PENDING", "RUNNING", email, 0, msg("pause"), null],
      ["pause", "RUNNING", "COMPLETED", email, 0, msg("pause"), null],
      ["nudge", null, "PENDING", email, null, null, null],
      ["nudge", "PENDING", "RUNNING", nudge, 0, msg("nudge"), null],
      ["nudge", "RUNNING", "COMPLETED", nudge, 0, msg("nudge"), null],
    ]);
    expect((await app.api("GET", `/api/campaigns/${id}/users/${berlin}`)).body.events).toHaveLength(9);

    // The same node delivered again (a new message, as a redelivery or a second publish would be).
    const before = await runsOf(id);
    const body = JSON.stringify({ campaignId: id, nodeId: "welcome_email", userId: "user-3", productUserId: berlin });
    const signed = qstashRequest("/api/jobs/campaign-node-execute", body, { url: `${app.url}/api/jobs/campaign-node-execute` });
    const res = await fetch(`${app.url}/api/jobs/campaign-node-execute`, { method: "POST", headers: signed.headers, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "succeeded", stats: { outcome: "ignored", state: "COMPLETED" } });
    expect(await runsOf(id)).toEqual(before);
    expect(sent.resend).toHaveLength(5);
    expect(sent.novu).toHaveLength(5);
    const last = (await eventsOf(id, berlin)).at(-1)!;
    expect([last.node, last.from, last.to, last.note]).toEqual(["welcome_email", "COMPLETED", "COMPLETED", "execution ignored: the node is COMPLETED"]);
  });
});
