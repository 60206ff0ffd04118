import { describe, expect, it } from "vitest";
import sendOrderEmail from "../jobs/send-order-email";
import { courierSignature } from "../lib/courier-signature";
import { CRON_SECRET, sql, testDeps } from "../../../tests/support/app";
import { checkout, orderFlow } from "./order-flow";
import { COMMERCE_ENV, COURIER_SECRET, locksOf, orderRow, shopVendors, stockOf } from "./support";

/**
 * Every order status through its own trigger: the shop's status route (placed, shipped, cancelled,
 * return approved), Razorpay's webhook (confirmed), the courier's webhook (delivered); each
 * counted where it ends, in the notifications table and at the Resend mock.
 */
const { report, courier, captured, settled } = orderFlow();

const notifications = (user: string) =>
  sql()<{ kind: string; title: string; body: string; metadata: unknown }[]>`select kind, title, body, metadata from commerce_notifications where user_id = ${user} order by id`;

describe("an order's six notifications", () => {
  it("each status from its trigger writes one notification and sends one email; repeating every call sends none", async () => {
    const v = shopVendors();
    const a = await checkout();
    const b = await checkout();
    const calls = async () => [
      await report(a.order, { status: "placed" }),
      await captured(a.transactionId),
      await report(a.order, { status: "shipped", trackingNumber: "BLUEDART-778899" }),
      await courier({ event: "delivered", trackingNumber: "BLUEDART-778899" }),
      await report(a.order, { status: "return_approved" }),
      await report(b.order, { status: "cancelled" }),
    ];
    expect((await calls()).map((r) => [r.status, r.body.outcome ?? (r.body.orders as { outcome: string }[])[0]!.outcome])).toEqual([
      [200, "already"], // placed changes nothing: the order exists
      [200, "confirmed"],
      [200, "changed"],
      [200, "changed"],
      [200, "changed"],
      [200, "changed"],
    ]);
    await settled();
    // QStash delivers in its own order: compared as sets, each status once.
    const statuses = ["placed", "confirmed", "shipped", "delivered", "return_approved"];
    const sent = new Map(v.resend.map((c) => [c.idempotencyKey, c.body]));
    expect(v.resend.map((c) => c.idempotencyKey).sort()).toEqual([...statuses.map((s) => `order:${a.order}:${s}`), `order:${b.order}:cancelled`].sort());
    const subjects: Record<string, string> = {
      placed: `We have received your order ${a.number}`,
      confirmed: `Your order ${a.number} is confirmed`,
      shipped: `Your order ${a.number} has shipped`,
      delivered: `Your order ${a.number} has been delivered`,
      return_approved: `Your return for order ${a.number} is approved`,
    };
    for (const s of statuses) expect(sent.get(`order:${a.order}:${s}`)).toMatchObject({ to: a.user.email, subject: subjects[s] });
    expect(sent.get(`order:${b.order}:cancelled`)).toMatchObject({ to: b.user.email, subject: `Your order ${b.number} has been cancelled` });
    expect(sent.get(`order:${a.order}:shipped`)!.text).toContain("Tracking number: BLUEDART-778899.");
    const rows = await notifications(a.user.id);
    expect(rows.map((r) => r.kind).sort()).toEqual(statuses.map((s) => `order-${s}`).sort());
    for (const r of rows) {
      expect(r.metadata).toEqual({ orderId: a.order, orderNumber: a.number });
      expect(r.title).toBe(subjects[r.kind.slice("order-".length)]);
      expect(r.body.length).toBeGreaterThan(0);
    }
    expect(await notifications(b.user.id)).toMatchObject([{ kind: "order-cancelled", metadata: { orderId: b.order, orderNumber: b.number } }]);
    expect(await orderRow(a.order)).toMatchObject({ status: "return_approved" });
    expect(await locksOf(b.order)).toBe(0);

    const again = await calls();
    expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // Each call again, though the order has moved on since: a status it reached is a repeat.
    expect(again.map((r) => r.body.outcome ?? (r.body.orders as { outcome: string }[])[0]!.outcome)).toEqual(["already", "already", "already", "already", "already", "already"]);
    await settled();
    expect(v.resend).toHaveLength(6);
    expect(await notifications(a.user.id)).toHaveLength(5);
    expect(await notifications(b.user.id)).toHaveLength(1);
  });
});

describe("POST /api/commerce/orders/:id/status", () => {
  it("refuses an impossible move with 409 naming where the order is, and changes nothing", async () => {
    const v = shopVendors();
    const p = await checkout();
    expect(await report(p.order, { status: "delivered" })).toEqual({
      status: 409,
      body: { error: "an order that is pending cannot become delivered (only from shipped)", orderId: p.order, status: "pending" },
    });
    expect((await report(p.order, { status: "return_approved" })).status).toBe(409);
    expect((await report(p.order, { status: "shipped", trackingNumber: "DTDC-1" })).status).toBe(409);
    expect(await captured(p.transactionId)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await report(p.order, { status: "shipped", trackingNumber: "DTDC-1" })).toMatchObject({ status: 200, body: { outcome: "changed", status: "shipped" } });
    expect(await report(p.order, { status: "shipped", trackingNumber: "DTDC-2" })).toMatchObject({
      status: 409,
      body: { error: "the order already shipped with tracking number DTDC-1" },
    });
    expect((await report(p.order, { status: "cancelled" })).status).toBe(409);
    expect(await orderRow(p.order)).toMatchObject({ status: "shipped" });
    await settled();
    expect(v.resend.map((c) => c.idempotencyKey).sort()).toEqual([`order:${p.order}:confirmed`, `order:${p.order}:shipped`]);
  });

  it("names the field of a bad request: no tracking number to ship, confirmed (the payment's), a bad id, no such order", async () => {
    const p = await checkout();
    expect(await report(p.order, { status: "shipped" })).toEqual({ status: 400, body: { error: "trackingNumber: is required when the status is shipped", field: "trackingNumber" } });
    const confirmed = await report(p.order, { status: "confirmed" });
    expect(confirmed).toMatchObject({ status: 400, body: { field: "status" } });
    expect(confirmed.body.error).toContain("confirmed follows the payment");
    expect(await report("42", { status: "placed" })).toEqual({ status: 400, body: { error: "id: must be the order's UUID", field: "id" } });
    const ghost = "00000000-0000-4000-8000-000000000000";
    expect(await report(ghost, { status: "cancelled" })).toEqual({ status: 404, body: { error: `id: no order ${ghost}`, field: "id" } });
    expect(await orderRow(p.order)).toMatchObject({ status: "pending" });
  });

  it("takes only Bearer COMMERCE_API_KEY (CRON_SECRET refused by name), and in production refuses everything while it is not set", async () => {
    const p = await checkout();
    expect(await report(p.order, { status: "cancelled" }, { key: null })).toEqual({ status: 401, body: { error: "missing or wrong Authorization: Bearer <COMMERCE_API_KEY>" } });
    expect((await report(p.order, { status: "cancelled" }, { key: "another-key" })).status).toBe(401);
    expect(await report(p.order, { status: "cancelled" }, { key: CRON_SECRET })).toEqual({
      status: 401,
      body: { error: "the shop's order-status API does not take CRON_SECRET (it can run every job): send Authorization: Bearer <COMMERCE_API_KEY>" },
    });
    const unset = testDeps([sendOrderEmail], [], { ...COMMERCE_ENV, APP_ENV: "production", SCHEDULE_PREFIX: "prod", COMMERCE_API_KEY: undefined });
    const refused = await report(p.order, { status: "cancelled" }, { d: unset });
    await unset.db.close();
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/^the shop's order-status API is closed: COMMERCE_API_KEY is not set/);
    expect(await orderRow(p.order)).toMatchObject({ status: "pending" });
  });

  it("a paid order cancelled before shipping puts what it took back in stock", async () => {
    shopVendors();
    const p = await checkout({ stock: 4, quantity: 2 });
    expect(await captured(p.transactionId, 500_000)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await stockOf(p.product)).toBe(2);
    expect(await report(p.order, { status: "cancelled" })).toMatchObject({ status: 200, body: { outcome: "changed" } });
    expect(await report(p.order, { status: "cancelled" })).toMatchObject({ status: 200, body: { outcome: "already" } });
    expect(await stockOf(p.product)).toBe(4);
    await settled();
  });
});

describe("POST /api/commerce/courier-webhook", () => {
  it("refuses a missing, wrong or unconfigured signature; ignores other events; 404 for a tracking number no order shipped with", async () => {
    const body = { event: "delivered", trackingNumber: "NOPE-1" };
    expect(await courier(body, { signature: null })).toMatchObject({ status: 401, body: { error: expect.stringMatching(/^invalid X-Courier-Signature/) } });
    expect((await courier(body, { secret: "another-secret" })).status).toBe(401);
    const unset = testDeps([sendOrderEmail], [], { ...COMMERCE_ENV, COURIER_WEBHOOK_SECRET: undefined });
    const refused = await courier(body, { d: unset });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/^COURIER_WEBHOOK_SECRET is not set/);
    expect(await courier({ event: "out_for_delivery", trackingNumber: "NOPE-1" })).toEqual({ status: 200, body: { ignored: "out_for_delivery" } });
    expect(await courier(body)).toEqual({ status: 404, body: { error: "trackingNumber: no order shipped with NOPE-1", field: "trackingNumber" } });
    expect(await courier({ event: "delivered" })).toMatchObject({ status: 400, body: { error: expect.stringContaining("trackingNumber") } });
  });

  it("takes a sha256= prefixed signature too", async () => {
    shopVendors();
    const p = await checkout();
    await captured(p.transactionId);
    await report(p.order, { status: "shipped", trackingNumber: "XPB-42" });
    const body = { event: "delivered", trackingNumber: "XPB-42" };
    const prefixed = await courier(body, { signature: `sha256=${courierSignature(JSON.stringify(body), COURIER_SECRET)}` });
    expect(prefixed).toEqual({ status: 200, body: { trackingNumber: "XPB-42", orders: [{ orderId: p.order, outcome: "changed" }] } });
    expect(await orderRow(p.order)).toMatchObject({ status: "delivered" });
    await settled();
  });
});
