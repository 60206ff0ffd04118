import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../../dev/qstash/server";
import reconcile from "../jobs/reconcile-stale-payments";
import sendOrderEmail from "../jobs/send-order-email";
import { razorpaySignature } from "../lib/razorpay-signature";
import { razorpayWebhookRoute } from "../http/razorpay-webhook";
import { jobRoute } from "@/lib/http/job-route";
import { runJob, type RunDeps } from "@/lib/jobs/run";
import { KEYS, sql, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertOrder, insertPayment, insertProduct, insertUser, locksOf, minutes, orderRow, shopVendors, stockOf, WEBHOOK_SECRET } from "./support";
import { serveRoutes } from "../../../tests/support/http-app";

/**
 * The webhook route, and the race it must survive: Razorpay's webhook and reconcile-stale-payments
 * confirming the same payment at once. Emails go the whole way: published to the local QStash
 * server, delivered to the real job route over HTTP, sent to the Resend mock, counted there.
 */
let qstash: QStashServer;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let deps: RunDeps;
beforeAll(async () => {
  app = await serveRoutes({ jobs: jobRoute("jobs", async () => deps) });
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
  deps = testDeps([reconcile, sendOrderEmail], [{ job: reconcile.name, cron: "*/10 * * * *", overlap: "allow" }], {
    ...COMMERCE_ENV,
    APP_URL: app.url,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
  });
});
afterAll(async () => {
  await qstash?.close();
  await app?.close();
});

const webhook = (d: RunDeps = deps) => razorpayWebhookRoute(async () => d).POST;
function event(name: string, payment: string, amount = 250_000, opts: { secret?: string; signature?: string | null; body?: string } = {}): Request {
  const body = opts.body ?? JSON.stringify({ entity: "event", event: name, payload: { payment: { entity: { id: payment, amount, status: name.split(".")[1], currency: "INR" } } } });
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = opts.signature === undefined ? razorpaySignature(body, opts.secret ?? WEBHOOK_SECRET) : opts.signature;
  if (signature !== null) headers["x-razorpay-signature"] = signature;
  return new Request("http://127.0.0.1:3000/api/commerce/razorpay-webhook", { method: "POST", headers, body });
}
const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

async function checkout(ago = minutes(15)) {
  const user = await insertUser();
  const product = await insertProduct({ stock: 10 });
  const order = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 1 }], lockedUntil: new Date(Date.now() + minutes(30)) });
  const payment = await insertPayment({ order, createdAt: new Date(Date.now() - ago) });
  return { order, user, product: product.id, ...payment };
}

/** Waits until QStash has delivered everything and every send-order-email run has closed. */
async function settled() {
  await expect.poll(() => Object.keys(qstash.state.messages).length, { timeout: 15_000, interval: 50 }).toBe(0);
  await expect.poll(async () => (await sql()`select 1 from job_runs where job = ${sendOrderEmail.name} and status = 'running'`).length, { timeout: 15_000 }).toBe(0);
}

describe("POST /api/commerce/razorpay-webhook", () => {
  it("refuses a missing, wrong or tampered signature, and everything when its secret is not set", async () => {
    const p = await checkout();
    const body = JSON.stringify({ event: "payment.captured", payload: { payment: { entity: { id: p.transactionId, amount: 250_000, status: "captured" } } } });
    expect(await answer(await webhook()(event("payment.captured", p.transactionId, 250_000, { signature: null })))).toEqual({ status: 401, body: { error: "invalid X-Razorpay-Signature" } });
    expect((await webhook()(event("payment.captured", p.transactionId, 250_000, { secret: "another-secret" }))).status).toBe(401);
    const tampered = event("payment.captured", p.transactionId, 250_000, { body: body.replace("250000", "1"), signature: razorpaySignature(body, WEBHOOK_SECRET) });
    expect((await webhook()(tampered)).status).toBe(401);
    const unset = testDeps([reconcile, sendOrderEmail], [], { ...COMMERCE_ENV, RAZORPAY_WEBHOOK_SECRET: undefined });
    const refused = await answer(await webhook(unset)(event("payment.captured", p.transactionId)));
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/^RAZORPAY_WEBHOOK_SECRET is not set/);
    expect(await orderRow(p.order)).toMatchObject({ status: "pending" });
  });

  it("names the field of a malformed event and acknowledges events it does not handle", async () => {
    const bad = JSON.stringify({ event: "payment.captured", payload: { payment: { entity: { id: "pay_x", status: "captured" } } } });
    const res = await answer(await webhook()(event("", "", 0, { body: bad })));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("payload.payment.entity.amount");
    const refund = JSON.stringify({ event: "refund.processed", payload: {} });
    expect(await answer(await webhook()(event("", "", 0, { body: refund })))).toEqual({ status: 200, body: { ignored: "refund.processed" } });
  });

  it("confirms a captured payment once and emails once, however often Razorpay delivers the event", async () => {
    const v = shopVendors();
    const p = await checkout(minutes(1));
    expect(await answer(await webhook()(event("payment.captured", p.transactionId)))).toEqual({ status: 200, body: { outcome: "confirmed", orderId: p.order } });
    expect(await answer(await webhook()(event("payment.captured", p.transactionId)))).toEqual({ status: 200, body: { outcome: "already", orderId: p.order } });
    await settled();
    expect(v.resend.map((c) => c.idempotencyKey)).toEqual([`order:${p.order}:confirmed`]);
    expect(v.resend[0]!.body.to).toBe(p.user.email);
    expect(await stockOf(p.product)).toBe(9);
    expect(await locksOf(p.order)).toBe(0);
  });

  it("marks a failed payment failed and releases its order's stock", async () => {
    const p = await checkout(minutes(1));
    expect(await answer(await webhook()(event("payment.failed", p.transactionId)))).toEqual({ status: 200, body: { outcome: "failed", orderId: p.order } });
    expect(await orderRow(p.order)).toMatchObject({ status: "payment_failed" });
    expect(await locksOf(p.order)).toBe(0);
    expect(await answer(await webhook()(event("payment.captured", p.transactionId)))).toMatchObject({ status: 200, body: { outcome: "conflict" } });
    expect(await orderRow(p.order)).toMatchObject({ status: "payment_failed" });
  });

  it("a payment captured at Razorpay while its webhook arrives confirms the order once and sends one email", async () => {
    // Only this test's payments are pending (the job would ask about earlier ones too).
    await sql()`update commerce_payments set status = 'failed' where status = 'pending'`;
    const list = await Promise.all(Array.from({ length: 6 }, () => checkout()));
    // Each webhook is sent the moment the job asks Razorpay about its payment: both then confirm at once.
    const hooks: Promise<{ status: number; body: Record<string, unknown> }>[] = [];
    const v = shopVendors({
      razorpay: {
        payments: Object.fromEntries(list.map((p) => [p.transactionId, "captured" as const])),
        respond: (call) => void hooks.push(webhook()(event("payment.captured", call.id)).then(answer)),
      },
    });
    const job = await runJob({ job: reconcile.name, payload: {}, trigger: "cli" }, deps);
    if (job.status !== "succeeded") throw new Error(`the reconcile run ${job.status}`);
    const answers = await Promise.all(hooks);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const byWebhook = answers.filter((a) => a.body.outcome === "confirmed").length;
    // Each order confirmed by exactly one of the two; the other found it done.
    expect(byWebhook + (job.stats.confirmed as number)).toBe(6);
    expect(answers.length - byWebhook + (job.stats.alreadyConfirmed as number)).toBe(6);
    await settled();
    expect(v.resend.map((c) => c.idempotencyKey).sort()).toEqual(list.map((p) => `order:${p.order}:confirmed`).sort());
    for (const p of list) {
      expect(await stockOf(p.product)).toBe(9);
      expect(await sql()`select count(*)::int as n from commerce_notifications where user_id = ${p.user.id}`).toEqual([{ n: 1 }]);
    }
  });
});
