import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import job from "../jobs/reconcile-stale-payments";
import sendOrderEmail from "../jobs/send-order-email";
import { jobRoute } from "@/lib/http/job-route";
import { runJob, type RunDeps } from "@/lib/jobs/run";
import { startRig, type Rig } from "../../../tests/dev/qstash-harness";
import { razorpayError } from "../../../tests/mocks/razorpay";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertOrder, insertPayment, insertProduct, insertUser, locksOf, minutes, orderRow, shopVendors, stockOf } from "./support";

/**
 * The job against the Razorpay mock, publishing its order emails to the local QStash server:
 * what it published is counted where QStash delivers (the rig's destination).
 */
let clock = new Date("2017-10-02T12:00:00Z");
let rig: Rig;
let deps: RunDeps;
beforeAll(async () => {
  rig = await startRig();
  const env = { ...COMMERCE_ENV, APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token };
  deps = { ...testDeps([job, sendOrderEmail], [{ job: job.name, cron: "*/10 * * * *", overlap: "allow" }], env), clock: () => clock };
});
afterAll(() => rig.close());
// Every pending payment is stale to a later clock: each test starts with none of the earlier ones.
beforeEach(async () => {
  await sql()`delete from effects where job = ${job.name}`;
  await sql()`delete from commerce_payments`;
});

const run = (d: RunDeps = deps) => runJob({ job: job.name, payload: {}, trigger: "cli" }, d);
/** The order emails QStash delivered so far: { orderId, status } each. */
async function published() {
  await rig.clock.settle();
  return rig.dest.received.filter((r) => r.path === "/api/jobs/send-order-email").map((r) => JSON.parse(r.text) as { orderId: string; status: string });
}

/** A pending order of one ring (stock 10, 1 held) paid by one payment created `ago` before the clock. */
async function checkout(ago: number, paymentStatus = "pending") {
  const user = await insertUser();
  const product = await insertProduct({ stock: 10 });
  const order = await insertOrder({ user: user.id, items: [{ product: product.id, quantity: 1 }], lockedUntil: new Date(clock.getTime() + minutes(30)) });
  const payment = await insertPayment({ order, createdAt: new Date(clock.getTime() - ago), status: paymentStatus });
  return { order, product: product.id, ...payment };
}

describe("reconcile-stale-payments", () => {
  it("confirms captured payments, fails failed ones, leaves the rest; a repeat asks only about those left", async () => {
    clock = new Date("2017-10-02T12:00:00Z");
    const captured = await checkout(minutes(11));
    const failed = await checkout(minutes(20));
    const authorized = await checkout(minutes(15));
    const fresh = await checkout(minutes(5));
    const done = await checkout(minutes(30), "captured");
    const v = shopVendors({ razorpay: { payments: { [captured.transactionId]: "captured", [failed.transactionId]: "failed", [authorized.transactionId]: "authorized", [fresh.transactionId]: "created" } } });

    expect(await run()).toMatchObject({
      status: "succeeded",
      stats: { confirmed: 1, alreadyConfirmed: 0, markedFailed: 1, released: 1, stillPending: 1, errors: 0 },
    });
    expect(v.razorpay.calls.map((c) => c.id).sort()).toEqual([captured, failed, authorized].map((p) => p.transactionId).sort());
    expect(await orderRow(captured.order)).toMatchObject({ status: "processing", confirmed_at: clock });
    expect(await stockOf(captured.product)).toBe(9);
    expect(await locksOf(captured.order)).toBe(0);
    expect(await orderRow(failed.order)).toMatchObject({ status: "payment_failed" });
    expect(await locksOf(failed.order)).toBe(0);
    expect(await stockOf(failed.product)).toBe(10);
    for (const p of [authorized, fresh]) expect(await orderRow(p.order)).toMatchObject({ status: "pending" });
    expect(await locksOf(authorized.order)).toBe(1);
    expect(await published()).toEqual([{ orderId: captured.order, status: "confirmed" }]);
    const delivery = rig.dest.received.find((r) => r.path === "/api/jobs/send-order-email")!;
    expect(delivery.headers["upstash-message-id"]).toBeDefined();
    expect(rig.server.state.dedup[`id:order:${captured.order}:confirmed`]).toBeDefined();

    clock = new Date("2017-10-02T12:10:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { confirmed: 0, markedFailed: 0, stillPending: 2 } });
    expect(v.razorpay.fetchesOf(authorized.transactionId)).toBe(2);
    expect(v.razorpay.fetchesOf(fresh.transactionId)).toBe(1); // stale now
    for (const p of [captured, failed, done]) expect(v.razorpay.fetchesOf(p.transactionId)).toBe(p === done ? 0 : 1);
    expect(await published()).toHaveLength(1);
  });

  it("asks less often about a payment Razorpay keeps reporting as created: a quarter of its age, 10 minutes to 6 hours", async () => {
    clock = new Date("2017-10-05T12:00:00Z");
    const young = await checkout(minutes(20));
    const old = await checkout(minutes(2 * 60));
    const abandoned = await checkout(minutes(3 * 24 * 60));
    const statuses: Record<string, "created" | "captured"> = { [young.transactionId]: "created", [old.transactionId]: "created", [abandoned.transactionId]: "created" };
    const v = shopVendors({ razorpay: { payments: statuses } });
    const asked = () => [young, old, abandoned].map((p) => v.razorpay.fetchesOf(p.transactionId));
    const at = async (iso: string) => {
      clock = new Date(iso);
      expect(await run()).toMatchObject({ status: "succeeded", stats: { errors: 0 } });
      return asked();
    };
    expect(await at("2017-10-05T12:00:00Z")).toEqual([1, 1, 1]);
    // 10 minutes on, only the 20-minute-old one is due again (its spacing is the 10-minute floor).
    expect(await at("2017-10-05T12:10:00Z")).toEqual([2, 1, 1]);
    // The 2-hour-old one waits a quarter of its age: 30 minutes.
    expect(await at("2017-10-05T12:30:00Z")).toEqual([3, 2, 1]);
    // The 3-day-old one waits the 6-hour cap; a payment captured meanwhile is still confirmed on its turn.
    statuses[abandoned.transactionId] = "captured";
    expect(await at("2017-10-05T17:59:00Z")).toEqual([4, 3, 1]);
    expect(await at("2017-10-05T18:00:00Z")).toEqual([4, 3, 2]);
    expect(await orderRow(abandoned.order)).toMatchObject({ status: "processing" });
  });

  it("two concurrent runs ask and confirm each payment once", async () => {
    clock = new Date("2017-10-03T12:00:00Z");
    const before = (await published()).length;
    const list = await Promise.all(Array.from({ length: 8 }, () => checkout(minutes(12))));
    const v = shopVendors({ razorpay: { delayMs: 15, payments: Object.fromEntries(list.map((p) => [p.transactionId, "captured" as const])) } });
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.confirmed as number) + (b.stats.confirmed as number)).toBe(8);
    expect(v.razorpay.calls.map((c) => c.id).sort()).toEqual(list.map((p) => p.transactionId).sort());
    for (const p of list) expect(await stockOf(p.product)).toBe(9);
    expect((await published()).slice(before).map((m) => m.orderId).sort()).toEqual(list.map((p) => p.order).sort());
  });

  it("counts a Razorpay 500 and confirms on a later run; a 429 ends the run with Retry-After", async () => {
    clock = new Date("2017-10-04T12:00:00Z");
    const p = await checkout(minutes(30));
    let v = shopVendors({ razorpay: { respond: () => razorpayError(500, "SERVER_ERROR", "We are facing some trouble completing your request at the moment") } });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { confirmed: 0, errors: 1 } });
    expect(await sql()`select status, attempts from effects where key = ${`payment:${p.id}:reconcile`}`).toEqual([{ status: "unknown", attempts: 1 }]);
    expect(await orderRow(p.order)).toMatchObject({ status: "pending" });

    clock = new Date("2017-10-04T12:10:00Z");
    v = shopVendors({ razorpay: { respond: () => razorpayError(429, "BAD_REQUEST_ERROR", "Too many requests", { "retry-after": "4" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("4");
    expect(v.razorpay.calls).toHaveLength(1);

    clock = new Date("2017-10-04T12:20:00Z");
    v = shopVendors({ razorpay: { payments: { [p.transactionId]: "captured" } } });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { confirmed: 1, errors: 0 } });
    expect(await orderRow(p.order)).toMatchObject({ status: "processing" });
    expect(await sql()`select status, attempts from effects where key = ${`payment:${p.id}:reconcile`}`).toEqual([{ status: "succeeded", attempts: 2 }]); // the rate-limited attempt was given back
  });

  it("publishes the email on the next attempt when QStash could not be reached after the order was confirmed", async () => {
    clock = new Date("2017-10-05T12:00:00Z");
    const p = await checkout(minutes(30));
    shopVendors({ razorpay: { payments: { [p.transactionId]: "captured" } } });
    const down = { ...testDeps([job, sendOrderEmail], [{ job: job.name, cron: "*/10 * * * *", overlap: "allow" }], { ...COMMERCE_ENV, APP_URL: rig.dest.url, QSTASH_URL: "http://127.0.0.1:9", QSTASH_TOKEN: rig.server.token }), clock: () => clock };
    const before = (await published()).length;
    expect(await run(down)).toMatchObject({ status: "succeeded", stats: { confirmed: 0, errors: 1 } });
    expect(await orderRow(p.order)).toMatchObject({ status: "processing" });
    expect((await published()).length).toBe(before);

    clock = new Date("2017-10-05T12:10:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { confirmed: 0, alreadyConfirmed: 1, errors: 0 } });
    expect((await published()).slice(before)).toEqual([{ orderId: p.order, status: "confirmed" }]);
    expect(await stockOf(p.product)).toBe(9);
  }, 30_000);

  it("leaves a captured payment of a cancelled order to a person", async () => {
    clock = new Date("2017-10-06T12:00:00Z");
    const p = await checkout(minutes(30));
    await sql()`update commerce_orders set status = 'cancelled', cancelled_at = now() where id = ${p.order}`;
    shopVendors({ razorpay: { payments: { [p.transactionId]: "captured" } } });
    const before = (await published()).length;
    expect(await run()).toMatchObject({ status: "succeeded", stats: { confirmed: 0, errors: 1, abandoned: 1 } });
    const [effect] = await sql()<{ status: string; last_error: string }[]>`select status, last_error from effects where key = ${`payment:${p.id}:reconcile`}`;
    expect(effect).toMatchObject({ status: "abandoned", last_error: expect.stringContaining("the order is cancelled") });
    expect((await published()).length).toBe(before);
  });
});
