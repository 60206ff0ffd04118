import { afterAll, beforeAll, expect } from "vitest";
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
import { COMMERCE_ENV, COURIER_SECRET, insertOrder, insertPayment, insertProduct, insertUser, minutes, orderRow, SHOP_KEY, WEBHOOK_SECRET } from "./support";

export type Answer = { status: number; body: Record<string, unknown> };
const answer = async (res: Response): Promise<Answer> => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });

/**
 * The shop's three ways in (its status route, Razorpay's webhook, the courier's webhook) as a test
 * file calls them, with the order emails going the whole way: published to the local QStash
 * server, delivered to the job route over HTTP, sent to the Resend mock. Call at the top of a file.
 */
export function orderFlow() {
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
    const req = new Request("http://127.0.0.1:3000/api/commerce/courier-webhook", { method: "POST", headers, body: raw });
    return courierWebhookRoute(async () => o.d ?? deps).POST(req).then(answer);
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

  /** Waits until QStash has delivered everything and no run of the shop's event jobs is open. */
  async function settled() {
    await expect.poll(() => Object.keys(qstash.state.messages).length, { timeout: 15_000, interval: 50 }).toBe(0);
    await expect.poll(async () => (await sql()`select 1 from job_runs where job in (${sendOrderEmail.name}, ${alertOrderAttention.name}) and status = 'running'`).length, { timeout: 15_000 }).toBe(0);
  }

  return { report, courier, captured, settled };
}

/** A pending order of `quantity` Emerald rings (stock `stock`) held for `lockedFor` (negative: lapsed), and its payment. */
export async function checkout(o: { stock?: number; quantity?: number; lockedFor?: number } = {}) {
  const user = await insertUser({ name: "Meera" });
  const product = await insertProduct({ stock: o.stock ?? 10, name: "Emerald ring" });
  const order = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: o.quantity ?? 1 }], lockedUntil: new Date(Date.now() + (o.lockedFor ?? minutes(30))) });
  const payment = await insertPayment({ order, createdAt: new Date(), amount: 250_000 * (o.quantity ?? 1) });
  return { order, user, product: product.id, number: (await orderRow(order)).order_number, ...payment };
}
