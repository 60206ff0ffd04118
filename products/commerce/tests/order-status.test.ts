import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../../dev/qstash/server";
import alertOrderAttention from "../jobs/alert-order-attention";
import reconcile from "../jobs/reconcile-stale-payments";
import sendOrderEmail from "../jobs/send-order-email";
import { courierWebhookRoute } from "../http/courier-webhook";
import { orderStatusRoute } from "../http/order-status";
import { razorpayWebhookRoute } from "../http/razorpay-webhook";
import { courierSignature } from "../lib/courier-signature";
import { razorpaySignature } from "../lib/razorpay-signature";
import { jobRoute } from "@/lib/http/job-route";
import type { RunDeps } from "@/lib/jobs/run";
import { KEYS, sql, testDeps } from "../../../tests/support/app";
import { serveRoutes } from "../../../tests/support/http-app";
import { COMMERCE_ENV, COURIER_SECRET, insertOrder, insertPayment, insertProduct, insertUser, locksOf, minutes, orderRow, SHOP_KEY, shopVendors, stockOf, WEBHOOK_SECRET } from "./support";

/**
 * Every order status through its own trigger: the shop's status route (placed, shipped, cancelled,
 * return approved), Razorpay's webhook (confirmed), the courier's webhook (delivered). Emails go
 * the whole way: published to the local QStash server, delivered to the job route over HTTP, sent
 * to the Resend mock and counted there.
 */
let qstash: QStashServer;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let deps: RunDeps;
beforeAll(async () => {
  app = await serveRoutes({ jobs: jobRoute("jobs", async () => deps) });
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
  deps = testDeps([reconcile, sendOrderEmail, alertOrderAttention], [], { ...COMMERCE_ENV, APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token });
});
afterAll(async () => {
  await qstash?.close();
  await app?.close();
});

const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

function report(order: string, body: unknown, o: { key?: string | null; d?: RunDeps } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (o.key !== null) headers.authorization = `Bearer ${o.key ?? SHOP_KEY}`;
  const req = new Request(`http://127.0.0.1:3000/api/commerce/orders/${order}/status`, { method: "POST", headers, body: JSON.stringify(body) });
  return orderStatusRoute(async () => o.d ?? deps).POST(req, { params: Promise.resolve({ id: order }) }).then(answer);
}

function courier(body: unknown, o: { secret?: string; signature?: string | null; d?: RunDeps } = {}) {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = o.signature === undefined ? courierSignature(raw, o.secret ?? COURIER_SECRET) : o.signature;
  if (signature !== null) headers["x-courier-signature"] = signature;
  return courierWebhookRoute(async () => o.d ?? deps).POST(new Request("http://127.0.0.1:3000/api/commerce/courier-webhook", { method: "POST", headers, body: raw })).then(answer);
}

function captured(transactionId: string, amount = 250_000) {
  const raw = JSON.stringify({ event: "payment.captured", payload: { payment: { entity: { id: transactionId, amount, status: "captured" } } } });
  const req = new Request("http://127.0.0.1:3000/api/commerce/razorpay-webhook", {
    method: "POST",
    headers: { "content-type": "application/json", "x-razorpay-signature": razorpaySignature(raw, WEBHOOK_SECRET) },
    body: raw,
  });
  return razorpayWebhookRoute(async () => deps).POST(req).then(answer);
}

async function checkout(o: { stock?: number; quantity?: number; lockedFor?: number } = {}) {
  const user = await insertUser({ name: "Meera" });
  const product = await insertProduct({ stock: o.stock ?? 10, name: "Emerald ring" });
  const order = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: o.quantity ?? 1 }], lockedUntil: new Date(Date.now() + (o.lockedFor ?? minutes(30))) });
  const payment = await insertPayment({ order, createdAt: new Date(), amount: 250_000 * (o.quantity ?? 1) });
  return { order, user, product: product.id, number: (await orderRow(order)).order_number, ...payment };
}

/** Waits until QStash has delivered everything and no run of the shop's event jobs is open. */
async function settled() {
  await expect.poll(() => Object.keys(qstash.state.messages).length, { timeout: 15_000, interval: 50 }).toBe(0);
  await expect.poll(async () => (await sql()`select 1 from job_runs where job in (${sendOrderEmail.name}, ${alertOrderAttention.name}) and status = 'running'`).length, { timeout: 15_000 }).toBe(0);
}

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

  it("takes only Bearer COMMERCE_API_KEY, and refuses everything while it is not set", async () => {
    const p = await checkout();
    expect(await report(p.order, { status: "cancelled" }, { key: null })).toEqual({ status: 401, body: { error: "missing or wrong Authorization: Bearer <COMMERCE_API_KEY>" } });
    expect((await report(p.order, { status: "cancelled" }, { key: "another-key" })).status).toBe(401);
    const unset = testDeps([sendOrderEmail], [], { ...COMMERCE_ENV, COMMERCE_API_KEY: undefined });
    const refused = await report(p.order, { status: "cancelled" }, { d: unset });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/^COMMERCE_API_KEY is not set/);
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

describe("a payment confirmed after its hold expired, with the stock gone", () => {
  it("leaves stock at what is really there, confirms the order as needs_attention, alerts the admins once", async () => {
    const v = shopVendors();
    // The ring's last unit; the order is for 3, and its 30-minute hold lapsed before Razorpay called.
    const p = await checkout({ stock: 1, quantity: 3, lockedFor: -minutes(5) });
    expect(await captured(p.transactionId, 750_000)).toEqual({ status: 200, body: { outcome: "confirmed", orderId: p.order } });
    expect(await captured(p.transactionId, 750_000)).toEqual({ status: 200, body: { outcome: "already", orderId: p.order } });
    expect(await stockOf(p.product)).toBe(0);
    const row = await orderRow(p.order);
    expect(row).toMatchObject({ status: "processing", attention_reason: "paid without its stock (its hold had expired): Emerald ring: 2 of 3 not in stock" });
    expect(row.needs_attention_at).not.toBeNull();
    expect(await sql()`select short_quantity from commerce_order_items where order_id = ${p.order}`).toEqual([{ short_quantity: 2 }]);
    await settled();
    const admin = v.resend.filter((c) => c.idempotencyKey === `order:${p.order}:needs-attention`);
    expect(admin).toHaveLength(1);
    expect(admin[0]!.body).toMatchObject({ to: [COMMERCE_ENV.ALERT_EMAIL], subject: `Order ${row.order_number} is paid but short of stock` });
    expect(admin[0]!.body.text).toContain("Emerald ring");
    expect(v.slack.filter((c) => JSON.stringify(c).includes(row.order_number))).toHaveLength(1);
    const customer = v.resend.filter((c) => c.idempotencyKey === `order:${p.order}:confirmed`);
    expect(customer).toHaveLength(1);
    expect(customer[0]!.body.text).not.toContain("Estimated delivery");
  });

  it("does not take stock another live checkout holds: that checkout still confirms in full", async () => {
    const v = shopVendors();
    const user = await insertUser();
    const product = await insertProduct({ stock: 2 });
    const lapsed = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 1 }], lockedUntil: new Date(Date.now() - minutes(5)) });
    const held = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 2 }], lockedUntil: new Date(Date.now() + minutes(20)) });
    const late = await insertPayment({ order: lapsed, createdAt: new Date() });
    const onTime = await insertPayment({ order: held, createdAt: new Date(), amount: 500_000 });
    expect(await captured(late.transactionId)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await stockOf(product.id)).toBe(2);
    expect(await orderRow(lapsed)).toMatchObject({ status: "processing", needs_attention_at: expect.any(Date) });
    expect(await captured(onTime.transactionId, 500_000)).toMatchObject({ status: 200, body: { outcome: "confirmed" } });
    expect(await stockOf(product.id)).toBe(0);
    expect(await orderRow(held)).toMatchObject({ status: "processing", needs_attention_at: null });
    await settled();
    expect(v.resend.filter((c) => c.idempotencyKey?.endsWith(":needs-attention")).map((c) => c.idempotencyKey)).toEqual([`order:${lapsed}:needs-attention`]);
  });
});
