import { delay, http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { defineJob } from "@/lib/jobs/define";
import { runJob } from "@/lib/jobs/run";
import { server } from "../../../tests/mocks/server";
import { testDeps, uniqueName } from "../../../tests/support/app";
import { VENDOR_ENV } from "../../../tests/support/vendors";
import { marketplaceProviders } from "../providers";

// The layer passes a run's signal to every vendor call (tests/integration/run-leases.test.ts, with a
// vendor of its own); here, the marketplace's Stripe through the Stripe SDK.
describe("the run's signal reaches Stripe", () => {
  it("stops a Stripe call made without a signal at the run's timeout, not at Stripe's (20 s) or never", { timeout: 30_000 }, async () => {
    const name = uniqueName("stripe-signal");
    const seen: { signal?: AbortSignal; results?: PromiseSettledResult<unknown>[]; afterMs?: number } = {};
    const vendorRequests: string[] = [];
    server.use(http.post("https://api.stripe.com/v1/transfers", async ({ request }) => (vendorRequests.push(request.url), await delay("infinite"), HttpResponse.json({}))));
    const job = defineJob({
      name,
      description: "t",
      // Long enough for the SDK's first request to reach the vendor on a loaded CI machine (300 ms
      // once did not), far below Stripe's own 20 s.
      timeoutMs: 2_000,
      handler: async ({ providers, signal }) => {
        seen.signal = signal;
        const started = Date.now();
        // The call passes no signal, as a job that forgot to would.
        seen.results = await Promise.allSettled([
          marketplaceProviders.of(providers).stripe().createTransfer({ amount: 100, currency: "usd", destination: "acct_x", metadata: {}, idempotencyKey: `t-${name}` }),
        ]);
        seen.afterMs = Date.now() - started;
      },
    });
    const deps = testDeps([job], [], VENDOR_ENV);
    const out = await runJob({ job: name, payload: {}, trigger: "cli" }, deps);
    expect(out).toMatchObject({ status: "failed", error: { name: "TimeoutError" } });
    expect(vendorRequests).toEqual(["https://api.stripe.com/v1/transfers"]);
    expect(seen.results!.map((r) => r.status)).toEqual(["rejected"]);
    expect(seen.afterMs).toBeLessThan(5000);
    await deps.db.close();
  });
});
