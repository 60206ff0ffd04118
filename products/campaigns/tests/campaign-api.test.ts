import { afterEach, describe, expect, it } from "vitest";
import { campaignRoutes } from "../http/routes";
import { sql } from "../../../tests/support/app";
import { eventsOf, runsOf, startCampaignApp, THREE_NODES, type CampaignApp } from "./support";
import { vendors } from "../../../tests/support/vendors";

const T0 = new Date("2027-01-11T08:00:00Z"); // a Monday
const ONE = { name: "one", nodes: [{ id: "hello", type: "email", config: { subject: "Hi", text: "Hi" }, timeoutSeconds: 600 }] };
const user = { userId: "u1", productUserId: "api-user", email: "api@example.test" };

let app: CampaignApp;
afterEach(() => app?.close());

describe("the campaigns API", () => {
  it("refuses bad input with a 400 naming the field, and stores nothing for it", async () => {
    app = await startCampaignApp(T0);
    expect(await app.api("POST", "/api/campaigns", { ...THREE_NODES, zone: "Mars/Olympus" })).toMatchObject({
      status: 400,
      body: { error: 'zone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Lisbon)', field: "zone" },
    });
    expect((await app.api("POST", "/api/campaigns", { ...THREE_NODES, hours: { start: "17:00", end: "09:00", days: [1] } })).body.error).toBe("hours.end: 09:00 must be after start 17:00 (windows across midnight are not supported)");
    expect((await app.api("POST", "/api/campaigns", { ...ONE, nodes: [{ ...ONE.nodes[0], next: "nowhere" }] })).body.error).toBe('nodes.0.next: no node "nowhere" in this campaign');
    const id = (await app.api("POST", "/api/campaigns", THREE_NODES)).body.id as string;
    const bad = await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "welcome_email", users: [{ ...user, zone: "Europe/Atlantis" }], businessHours: true });
    expect(bad).toMatchObject({ status: 400, body: { error: 'users.0.zone: unknown time zone "Europe/Atlantis" (use an IANA name such as Europe/Lisbon)' } });
    expect((await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "welcome_email", users: [user] })).body.error).toBe("at: give either at (an instant) or businessHours: true");
    expect((await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "nope", users: [user], businessHours: true })).status).toBe(404);
    expect(await sql()`select * from campaign_users where product_user_id = ${user.productUserId}`).toHaveLength(0);
    expect(await runsOf(id)).toHaveLength(0);

    const anonymous = await campaignRoutes(async () => app.deps()).create(new Request("http://127.0.0.1/api/campaigns", { method: "POST", body: "{}" }), { params: Promise.resolve({}) });
    expect(anonymous.status).toBe(401);
  });

  it("moves a pending run: one delivery, at the new time", async () => {
    const sent = vendors();
    app = await startCampaignApp(T0);
    const id = (await app.api("POST", "/api/campaigns", ONE)).body.id as string;
    const first = new Date(T0.getTime() + 3_600_000);
    const later = new Date(T0.getTime() + 2 * 3_600_000);
    await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: [user], at: first.toISOString() });
    const moved = await app.api("PATCH", `/api/campaigns/${id}/runs`, { nodeId: "hello", productUserId: user.productUserId, at: later.toISOString() });
    expect([moved.status, moved.body.state, Date.parse(moved.body.runAt)]).toEqual([200, "PENDING", later.getTime()]);
    await app.rig.clock.advanceTo(new Date(later.getTime() + 3_600_000));
    const [run] = await runsOf(id);
    expect([run!.state, run!.started_at?.getTime()]).toEqual(["COMPLETED", later.getTime()]);
    expect(sent.resend).toHaveLength(1);
    expect((await eventsOf(id, user.productUserId)).map((e) => [e.from, e.to])).toEqual([
      [null, "PENDING"],
      ["PENDING", "PENDING"],
      ["PENDING", "RUNNING"],
      ["RUNNING", "COMPLETED"],
    ]);
    expect((await app.api("PATCH", `/api/campaigns/${id}/runs`, { nodeId: "hello", productUserId: user.productUserId, businessHours: true })).status).toBe(409);
  });

  it("cancels a pending run: CANCELLED, its messages taken back, nothing sent", async () => {
    const sent = vendors();
    app = await startCampaignApp(T0);
    const id = (await app.api("POST", "/api/campaigns", ONE)).body.id as string;
    await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: [user], at: new Date(T0.getTime() + 60_000).toISOString() });
    const q = `nodeId=hello&productUserId=${user.productUserId}`;
    expect(await app.api("DELETE", `/api/campaigns/${id}/runs?${q}`)).toMatchObject({ status: 200, body: { state: "CANCELLED" } });
    expect(Object.keys(app.rig.server.state.messages)).toEqual([]);
    await app.rig.clock.advance(3_600_000);
    expect(sent.resend).toHaveLength(0);
    expect((await app.api("DELETE", `/api/campaigns/${id}/runs?${q}`)).status).toBe(409);
    // The state table refuses the same run for ever: planning it again finds the cancelled one.
    expect((await app.api("POST", `/api/campaigns/${id}/runs`, { nodeId: "hello", users: [user], businessHours: true })).body).toMatchObject({ planned: 0, existing: 1 });
  });
});
