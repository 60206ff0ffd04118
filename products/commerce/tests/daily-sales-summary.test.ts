import { describe, expect, it } from "vitest";
import job from "../jobs/daily-sales-summary";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { bearerRequest, CRON_SECRET, params, qstashRequest, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertOrder, insertProduct, insertUser, shopVendors } from "./support";

let clock = new Date("2027-03-28T17:00:00Z");
const depsIn = (zone: string | undefined) => ({
  ...testDeps([job], [{ job: job.name, cron: `CRON_TZ=${zone ?? "Asia/Kolkata"} 0 18 * * *`, overlap: "allow" }], { ...COMMERCE_ENV, STORE_TIME_ZONE: zone }),
  clock: () => clock,
});
const london = depsIn("Europe/London");
const kolkata = depsIn(undefined); // the default zone
const run = (deps: typeof london, payload: { date?: string } = {}) => runJob({ job: job.name, payload, trigger: "cli" }, deps);

/** Orders placed at the given instants (status, quantity of one product at 1,000.00 each). */
async function orders(list: [string, string, number?][]) {
  const user = await insertUser();
  const product = await insertProduct({ name: `Bangle ${user.id.slice(0, 4)}`, price: 100_000 });
  for (const [at, status, quantity] of list) {
    await insertOrder({ user: user.id, status, createdAt: new Date(at), items: [{ product: product.id, quantity: quantity ?? 1, price: 100_000 }] });
  }
  return product;
}

describe("daily-sales-summary", () => {
  it("counts London's 23-hour day when the clocks go forward (2027-03-28)", async () => {
    clock = new Date("2027-03-28T17:00:00Z"); // 18:00 BST
    const v = shopVendors();
    await orders([
      ["2027-03-27T23:30:00Z", "processing"], // 23:30 GMT on the 27th
      ["2027-03-28T00:30:00Z", "processing"], // 00:30 GMT: the day's first hour
      ["2027-03-28T16:30:00Z", "shipped", 2],
      ["2027-03-28T16:40:00Z", "pending"],
      ["2027-03-28T16:50:00Z", "cancelled"],
      ["2027-03-28T22:45:00Z", "delivered"], // 23:45 BST: still the 28th
      ["2027-03-28T23:15:00Z", "processing"], // 00:15 BST on the 29th
    ]);
    expect(await run(london)).toMatchObject({ status: "succeeded", stats: { date: "2027-03-28", sent: 1, orders: 3 } });
    expect(v.resend).toHaveLength(1);
    expect(v.resend[0]).toMatchObject({
      idempotencyKey: "sales-summary:2027-03-28",
      body: { to: ["ops@example.test"], subject: "Sales for Sunday 28 March 2027: 3 orders, ₹4,000.00" },
    });
    expect(v.resend[0]!.body.text).toContain("(Europe/London)");
    // A repeat the same evening sends nothing.
    clock = new Date("2027-03-28T17:30:00Z");
    expect(await run(london)).toMatchObject({ status: "succeeded", stats: { date: "2027-03-28", sent: 0, skipped: 1 } });
    expect(v.resend).toHaveLength(1);
  });

  it("counts London's 25-hour day when the clocks go back (2027-10-31)", async () => {
    clock = new Date("2027-10-31T18:00:00Z"); // 18:00 GMT
    const v = shopVendors();
    await orders([
      ["2027-10-30T22:30:00Z", "processing"], // 23:30 BST on the 30th
      ["2027-10-30T23:30:00Z", "processing"], // 00:30 BST on the 31st
      ["2027-10-31T12:00:00Z", "delivered"],
      ["2027-10-31T23:30:00Z", "shipped"], // 23:30 GMT: the day's 25th hour
      ["2027-11-01T00:10:00Z", "processing"],
    ]);
    expect(await run(london)).toMatchObject({ status: "succeeded", stats: { date: "2027-10-31", sent: 1, orders: 3 } });
    expect(v.resend[0]!.body.subject).toBe("Sales for Sunday 31 October 2027: 3 orders, ₹3,000.00");
  });

  it("uses Asia/Kolkata by default, and a late tick summarises its own slot's day", async () => {
    const v = shopVendors();
    const product = await orders([
      ["2027-06-14T18:15:00Z", "processing"], // 23:45 IST on the 14th
      ["2027-06-14T18:45:00Z", "processing", 3], // 00:15 IST
      ["2027-06-15T12:00:00Z", "shipped"],
      ["2027-06-15T18:40:00Z", "processing"], // 00:10 IST on the 16th
    ]);
    // The 18:00 IST tick (12:30 UTC) delivered six and a half hours late, after midnight in Kolkata.
    clock = new Date("2027-06-15T19:00:00Z");
    const res = await jobRoute("cron", async () => kolkata).POST(qstashRequest(`/api/cron/${job.name}`, "{}", { scheduleId: `test-${job.name}` }), params(job.name));
    expect(res.status).toBe(200);
    expect(v.resend.map((c) => c.idempotencyKey)).toEqual(["sales-summary:2027-06-15"]);
    expect(v.resend[0]!.body.subject).toBe("Sales for Tuesday 15 June 2027: 2 orders, ₹4,000.00");
    expect(v.resend[0]!.body.text).toContain(`1. ${product.name}: 4 sold, ₹4,000.00`);
    expect(v.resend[0]!.body.text).toContain("(Asia/Kolkata)");
  });

  it("sends one summary when two runs race", async () => {
    clock = new Date("2027-04-05T12:30:00Z");
    const v = shopVendors({ resend: { delayMs: 20 } });
    await orders([["2027-04-05T10:00:00Z", "processing"]]);
    const [a, b] = await Promise.all([run(kolkata), run(kolkata)]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.sent as number) + (b.stats.sent as number)).toBe(1);
    expect(v.resend.map((c) => c.idempotencyKey)).toEqual(["sales-summary:2027-04-05"]);
  });

  it("counts a Resend 500 and sends that day's summary with the next day's; a 429 ends the run with Retry-After", async () => {
    clock = new Date("2027-05-10T12:30:00Z");
    await orders([["2027-05-10T09:00:00Z", "delivered"]]);
    const failing = shopVendors({ resend: { respond: () => resendError(500, "internal_server_error", "Unexpected error") } });
    expect(await run(kolkata)).toMatchObject({ status: "succeeded", stats: { sent: 0, failed: 1 } });
    expect(failing.resend).toHaveLength(1);

    clock = new Date("2027-05-10T12:40:00Z");
    shopVendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "3" }) } });
    const res = await jobRoute("cron", async () => kolkata).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");

    // The next day's tick sends both days, each with its own figures.
    const v = shopVendors();
    clock = new Date("2027-05-11T12:30:00Z");
    expect(await run(kolkata)).toMatchObject({ status: "succeeded", stats: { date: "2027-05-11", sent: 2, orders: 0, failed: 0 } });
    expect(Object.fromEntries(v.resend.map((c) => [c.idempotencyKey, c.body.subject]))).toEqual({
      "sales-summary:2027-05-10": "Sales for Monday 10 May 2027: 1 order, ₹1,000.00",
      "sales-summary:2027-05-11": "Sales for Tuesday 11 May 2027: 0 orders, ₹0.00",
    });
    expect(await run(kolkata)).toMatchObject({ stats: { sent: 0 } });
  });
});
