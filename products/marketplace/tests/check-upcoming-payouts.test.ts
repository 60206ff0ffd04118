import { describe, expect, it } from "vitest";
import job from "../jobs/check-upcoming-payouts";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { novuTriggers } from "../../../tests/mocks/novu";
import { resendError } from "../../../tests/mocks/resend";
import { server } from "../../../tests/mocks/server";
import { HttpResponse } from "msw";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

// 2030: after the payouts other files create (2029), and each test in its own month.
let clock = new Date("2030-05-10T20:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 12 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

async function payout(expert: string, arrival: string, status = "in_transit", amount = 24_000) {
  const [p] = await sql()`
    insert into payouts (expert_id, payout_date, amount_cents, currency, status, stripe_payout_id, arrival_date)
    values (${expert}, ${arrival}::date - 2, ${amount}, 'eur', ${status}, 'po_test', ${arrival}) returning id`;
  return p!.id as string;
}
const key = (id: string) => `payout-upcoming:${id}`;
const notice = (id: string) => sql()`select key, job, status, attempts from effects where subject = ${id}`;

describe("check-upcoming-payouts", () => {
  it("tells the expert once about payouts arriving from today to 3 days ahead, in the expert's calendar", async () => {
    clock = new Date("2030-05-10T20:00:00Z"); // Auckland: already Saturday 11 May, 08:00
    const calls = vendors();
    const expert = await insertExpert({ time_zone: "Pacific/Auckland", name: "Mere" });
    const today = await payout(expert.id, "2030-05-11");
    const in3 = await payout(expert.id, "2030-05-14");
    const in4 = await payout(expert.id, "2030-05-15");
    const yesterday = await payout(expert.id, "2030-05-10"); // today in UTC, yesterday in Auckland
    const pending = await payout(expert.id, "2030-05-12", "pending"); // not paid out yet

    expect(await run()).toMatchObject({ status: "succeeded", stats: { notified: 2, failed: 0 } });
    // Sent 8 at a time: compare as sets, find single calls by key.
    const keys = (cs: { idempotencyKey: string | null }[]) => cs.map((c) => c.idempotencyKey).sort();
    expect(keys(calls.resend)).toEqual([key(today), key(in3)].sort());
    expect(calls.resend.find((c) => c.idempotencyKey === key(in3))).toMatchObject({ body: { to: expert.email, subject: "Your payout of €240.00 arrives Tuesday 14 May 2030" } });
    expect(keys(calls.novu)).toEqual([key(today), key(in3)].sort());
    expect(calls.novu.find((c) => c.idempotencyKey === key(today))!.body).toMatchObject({ name: "payout-upcoming", to: { subscriberId: expert.id }, transactionId: key(today), payload: { payoutId: today, amount: 24_000 } });
    for (const id of [in4, yesterday, pending]) expect(await notice(id)).toEqual([]);
    expect(await notice(today)).toEqual([{ key: key(today), job: job.name, status: "succeeded", attempts: 1 }]);

    expect(await run()).toMatchObject({ stats: { notified: 0 } });
    clock = new Date("2030-05-11T20:00:00Z"); // a day later, in4 enters the window; the others are done
    expect(await run()).toMatchObject({ stats: { notified: 1 } });
    expect(keys(calls.resend)).toEqual([key(today), key(in3), key(in4)].sort());
  });

  it("notifies once when two runs race", async () => {
    clock = new Date("2030-06-10T12:00:00Z");
    const calls = vendors({ resend: { delayMs: 10 } });
    const ids = await Promise.all(Array.from({ length: 8 }, async () => payout((await insertExpert()).id, "2030-06-12")));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.notified as number) + (b.stats.notified as number)).toBe(8);
    expect(calls.novu.map((c) => c.idempotencyKey).sort()).toEqual(ids.map(key).sort());
  });

  it("counts a Novu 500 for one payout and notifies it on the next run", async () => {
    clock = new Date("2030-07-10T12:00:00Z");
    const expert = await insertExpert();
    const ok = await payout(expert.id, "2030-07-11");
    const bad = await payout(expert.id, "2030-07-12");
    const calls = vendors();
    const failing = novuTriggers({ respond: (c) => (c.idempotencyKey === key(bad) ? HttpResponse.json({ statusCode: 500, message: "Internal server error" }, { status: 500 }) : undefined) });
    server.use(...failing.handlers);
    expect(await run()).toMatchObject({ status: "succeeded", stats: { notified: 1, failed: 1 } });
    expect(failing.calls.map((c) => c.idempotencyKey).sort()).toEqual([key(ok), key(bad)].sort()); // no SDK retry of the 500
    expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual([key(ok), key(bad)].sort());
    expect(await notice(bad)).toEqual([{ key: key(bad), job: job.name, status: "unknown", attempts: 1 }]);

    const later = vendors();
    clock = new Date("2030-07-10T12:10:00Z");
    expect(await run()).toMatchObject({ stats: { notified: 1, failed: 0 } });
    expect(later.novu.map((c) => c.idempotencyKey)).toEqual([key(bad)]);
    // The email went out the first time: sent again under the same key, which Resend drops.
    expect(later.resend.map((c) => c.idempotencyKey)).toEqual([key(bad)]);
    expect(await notice(bad)).toEqual([{ key: key(bad), job: job.name, status: "succeeded", attempts: 2 }]);
  });

  it("ends the run with 429 and Retry-After; the next run notifies what was left", async () => {
    clock = new Date("2030-08-10T12:00:00Z");
    const expert = await insertExpert();
    const id = await payout(expert.id, "2030-08-11");
    vendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "5" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await notice(id)).toEqual([]); // released: it never happened
    const calls = vendors();
    expect(await run()).toMatchObject({ stats: { notified: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([key(id)]);
  });
});
