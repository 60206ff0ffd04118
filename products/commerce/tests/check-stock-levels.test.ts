import { describe, expect, it } from "vitest";
import job from "../jobs/check-stock-levels";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { COMMERCE_ENV, insertProduct, setStock, shopVendors } from "./support";

// Hours of 2017: no other test's clock is there.
let clock = new Date("2017-03-01T00:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 * * * *", overlap: "allow" }], COMMERCE_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
const hourLater = () => (clock = new Date(clock.getTime() + 3_600_000));
/** Products named in the alert emails, in order of sending. */
const listed = (calls: { body: { text: string } }[], names: string[]) => calls.map((c) => names.filter((n) => c.body.text.includes(n)));

describe("check-stock-levels", () => {
  it("alerts once per low-stock episode over many hourly runs, and again after a restock and a new fall", async () => {
    clock = new Date("2017-03-01T00:00:00Z");
    const v = shopVendors();
    const low = await insertProduct({ stock: 3, name: "Ruby ring" });
    const atThreshold = await insertProduct({ stock: 5, name: "Gold chain" });
    const fine = await insertProduct({ stock: 6, name: "Silver anklet" });
    const names = [low.name, atThreshold.name, fine.name];

    expect(await run()).toMatchObject({ status: "succeeded", stats: { newlyLow: 2, alerts: 1, failed: 0 } });
    expect(v.resend).toHaveLength(1);
    expect(v.resend[0]).toMatchObject({ body: { to: ["ops@example.test"], subject: "Low stock: 2 products at or below threshold" } });
    expect(v.resend[0]!.body.text).toContain(`Ruby ring (${low.sku}): 3 left, threshold 5`);
    expect(listed(v.resend, names)).toEqual([[low.name, atThreshold.name]]);
    expect(v.slack).toHaveLength(1);
    expect(v.slack[0]!.body.text).toContain("*Low stock: 2 products at or below threshold*");

    for (let i = 0; i < 5; i++) {
      hourLater();
      expect(await run()).toMatchObject({ status: "succeeded", stats: { newlyLow: 0, alerts: 0 } });
    }
    await setStock(low.id, 20);
    hourLater();
    expect(await run()).toMatchObject({ stats: { newlyLow: 0, restocked: 1, alerts: 0 } });
    await setStock(low.id, 4);
    hourLater();
    expect(await run()).toMatchObject({ stats: { newlyLow: 1, alerts: 1 } });
    hourLater();
    expect(await run()).toMatchObject({ stats: { newlyLow: 0, alerts: 0 } });

    expect(listed(v.resend, names)).toEqual([[low.name, atThreshold.name], [low.name]]);
    expect(v.slack).toHaveLength(2);
    const episodes = (product: string) =>
      sql()`select closed_at is not null as closed, notified_at is not null as notified from commerce_stock_alerts where product_id = ${product} order by id`;
    expect(await episodes(low.id)).toEqual([{ closed: true, notified: true }, { closed: false, notified: true }]);
    expect(await episodes(atThreshold.id)).toEqual([{ closed: false, notified: true }]);
    expect(await episodes(fine.id)).toEqual([]);
  });

  it("two concurrent runs announce each newly low product once", async () => {
    clock = new Date("2017-04-01T00:00:00Z");
    await sql()`update commerce_products set stock = 100`;
    const v = shopVendors({ resend: { delayMs: 20 } });
    const products = await Promise.all(Array.from({ length: 6 }, (_, i) => insertProduct({ stock: i, name: `Pendant ${i}-${clock.getTime()}` })));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.newlyLow as number) + (b.stats.newlyLow as number)).toBe(6);
    const names = products.map((p) => p.name);
    const mentioned = listed(v.resend, names).flat();
    expect(mentioned.sort()).toEqual([...names].sort());
    expect(v.slack).toHaveLength(v.resend.length);
    hourLater();
    expect(await run()).toMatchObject({ stats: { alerts: 0 } });
  });

  it("counts a Resend 500, posts nothing to Slack, and sends the same alert (same key) once its backoff has passed", async () => {
    clock = new Date("2017-05-01T00:00:00Z");
    await sql()`update commerce_products set stock = 100`;
    const product = await insertProduct({ stock: 1, name: "Opal brooch" });
    const failing = shopVendors({ resend: { respond: () => resendError(500, "internal_server_error", "Unexpected error") } });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { newlyLow: 1, alerts: 0, failed: 1 } });
    expect(failing.resend).toHaveLength(1);
    expect(failing.slack).toHaveLength(0);
    const key = failing.resend[0]!.idempotencyKey!;
    expect(await sql()`select status, attempts from effects where key = ${key}`).toEqual([{ status: "unknown", attempts: 1 }]);

    const v = shopVendors();
    clock = new Date(clock.getTime() + 5 * 60_000);
    expect(await run()).toMatchObject({ stats: { newlyLow: 0, alerts: 1, failed: 0 } });
    expect(v.resend.map((c) => c.idempotencyKey)).toEqual([key]);
    expect(v.resend[0]!.body.text).toContain(product.name);
    expect(v.slack).toHaveLength(1);
  });

  it("ends the run with 429 and Retry-After when Resend rate-limits; the next run sends the alert", async () => {
    clock = new Date("2017-06-01T00:00:00Z");
    await sql()`update commerce_products set stock = 100`;
    await insertProduct({ stock: 0, name: "Pearl earrings" });
    shopVendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "7" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    const v = shopVendors();
    expect(await run()).toMatchObject({ status: "succeeded", stats: { alerts: 1 } });
    expect(v.resend).toHaveLength(1);
    expect(v.resend[0]!.body.text).toContain("Pearl earrings");
  });
});
