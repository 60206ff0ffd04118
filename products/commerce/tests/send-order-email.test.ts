import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import job from "../jobs/send-order-email";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { params, qstashRequest, sql, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertOrder, insertProduct, insertUser, shopVendors } from "./support";

let clock = new Date("2017-08-01T10:00:00Z");
const deps = { ...testDeps([job], [], COMMERCE_ENV), clock: () => clock };
type Status = "placed" | "confirmed" | "shipped" | "delivered" | "cancelled" | "return_approved";
const run = (orderId: string, status: Status) => runJob({ job: job.name, payload: { orderId, status }, trigger: "qstash", messageId: `msg_${randomUUID()}` }, deps);
const notifications = (user: string) => sql()<{ key: string; kind: string; title: string; metadata: unknown }[]>`select key, kind, title, metadata from commerce_notifications where user_id = ${user} order by id`;

async function order(o: { status: string; set?: string }) {
  const user = await insertUser({ name: "Meera" });
  const product = await insertProduct({ name: "Emerald ring", price: 1_250_000 });
  const id = await insertOrder({ user: user.id, status: o.status, items: [{ product: product.id, quantity: 1, price: 1_250_000 }] });
  if (o.set) await sql().unsafe(`update commerce_orders set ${o.set} where id = $1`, [id]);
  const [row] = await sql()<{ order_number: string }[]>`select order_number from commerce_orders where id = ${id}`;
  return { id, user, ref: row!.order_number };
}

describe("send-order-email", () => {
  it("sends a confirmed order's email and notification once, however often the event arrives", async () => {
    const v = shopVendors();
    const o = await order({ status: "processing", set: "confirmed_at = now()" });
    expect(await run(o.id, "confirmed")).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 0 } });
    expect(v.resend).toHaveLength(1);
    expect(v.resend[0]).toMatchObject({
      idempotencyKey: `order:${o.id}:confirmed`,
      body: { to: o.user.email, from: COMMERCE_ENV.EMAIL_FROM, subject: `Your order ${o.ref} is confirmed` },
    });
    expect(o.ref).toMatch(/^ORD-\d{6,}$/);
    expect(v.resend[0]!.body.text).toContain("1 x Emerald ring (₹12,500.00)\nTotal: ₹12,500.00");
    expect(await notifications(o.user.id)).toEqual([
      { key: `order:${o.id}:confirmed`, kind: "order-confirmed", title: `Your order ${o.ref} is confirmed`, metadata: { orderId: o.id, orderNumber: o.ref } },
    ]);

    expect(await run(o.id, "confirmed")).toMatchObject({ status: "succeeded", stats: { sent: 0, skipped: 1 } });
    expect(v.resend).toHaveLength(1);
    expect(await notifications(o.user.id)).toHaveLength(1);
  });

  it("dates the confirmation's delivery 5 business days after its day in the store's zone; promises none when the order is short", async () => {
    const v = shopVendors();
    // Sunday 3 January 2027 at 20:00 UTC is Monday 01:30 in Asia/Kolkata: counted from the Monday (from the Sunday it would be Friday the 8th).
    const o = await order({ status: "processing", set: "confirmed_at = '2027-01-03T20:00:00Z'" });
    expect(await run(o.id, "confirmed")).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(v.resend[0]!.body.text).toContain("Total: ₹12,500.00\nEstimated delivery: Monday, 11 January 2027");
    expect(v.resend[0]!.body.html).toContain("Estimated delivery: Monday, 11 January 2027");

    const short = await order({ status: "processing", set: "confirmed_at = '2027-01-03T20:00:00Z', needs_attention_at = now()" });
    expect(await run(short.id, "confirmed")).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(v.resend[1]!.body.text).not.toContain("Estimated delivery");
    expect(v.resend[1]!.body.text).toContain("Part of your order is not in stock right now");

    expect(await run(o.id, "placed")).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(v.resend[2]!.body).toMatchObject({ subject: `We have received your order ${o.ref}` });
    expect(v.resend[2]!.body.text).toContain("1 x Emerald ring (₹12,500.00)\nTotal: ₹12,500.00");
    expect(v.resend[2]!.body.text).not.toContain("Estimated delivery");
  });

  it("tells the tracking number of a shipped order; sends nothing for a status the order never reached", async () => {
    const v = shopVendors();
    const o = await order({ status: "shipped", set: "confirmed_at = now(), shipped_at = now(), tracking_number = 'BLUEDART-123456'" });
    expect(await run(o.id, "delivered")).toMatchObject({ status: "succeeded", stats: { sent: 0, notReached: 1 } });
    expect(v.resend).toHaveLength(0);
    expect(await run(o.id, "shipped")).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(v.resend[0]!.body.subject).toBe(`Your order ${o.ref} has shipped`);
    expect(v.resend[0]!.body.text).toContain("Tracking number: BLUEDART-123456.");
  });

  it("refuses an unknown order for good (489) and an invalid payload by field", async () => {
    const route = jobRoute("jobs", async () => deps);
    const unknown = await route.POST(qstashRequest(`/api/jobs/${job.name}`, JSON.stringify({ orderId: randomUUID(), status: "cancelled" })), params(job.name));
    expect(unknown.status).toBe(489);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^order .* does not exist$/);
    const bad = await route.POST(qstashRequest(`/api/jobs/${job.name}`, JSON.stringify({ orderId: "42", status: "lost" })), params(job.name));
    expect(bad.status).toBe(489);
    expect(JSON.stringify(await bad.json())).toMatch(/orderId.*status|status.*orderId/);
  });

  it("sends one email when two deliveries of the event race", async () => {
    const v = shopVendors({ resend: { delayMs: 30 } });
    const o = await order({ status: "cancelled", set: "cancelled_at = now()" });
    const [a, b] = await Promise.all([run(o.id, "cancelled"), run(o.id, "cancelled")]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.sent as number) + (b.stats.sent as number)).toBe(1);
    expect(v.resend).toHaveLength(1);
    expect(await notifications(o.user.id)).toHaveLength(1);
  });

  it("counts a Resend 500 and sends the same email (one notification) on a later delivery; a 429 answers Retry-After", async () => {
    clock = new Date("2017-08-02T10:00:00Z");
    const o = await order({ status: "return_approved", set: "delivered_at = now(), return_approved_at = now()" });
    const failing = shopVendors({ resend: { respond: () => resendError(500, "internal_server_error", "Unexpected error") } });
    expect(await run(o.id, "return_approved")).toMatchObject({ status: "succeeded", stats: { sent: 0, failed: 1 } });
    expect(failing.resend).toHaveLength(1);

    clock = new Date("2017-08-02T10:05:00Z");
    shopVendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "5" }) } });
    const res = await jobRoute("jobs", async () => deps).POST(
      qstashRequest(`/api/jobs/${job.name}`, JSON.stringify({ orderId: o.id, status: "return_approved" })),
      params(job.name),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");

    const v = shopVendors();
    clock = new Date("2017-08-02T10:10:00Z");
    expect(await run(o.id, "return_approved")).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(v.resend.map((c) => c.idempotencyKey)).toEqual([`order:${o.id}:return_approved`]);
    expect(await notifications(o.user.id)).toHaveLength(1);
  });
});
