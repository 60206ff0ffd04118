import { describe } from "vitest";
import { z } from "zod";
import { defineJob } from "../../lib/jobs/define";
import { jobRoute } from "../../lib/http/job-route";
import { ledger, params, testDeps, uniqueName } from "../support/app";
import { signedRouteContract } from "../support/signed-route-contract";

const scheduled = uniqueName("auth-cron");
const oneTime = uniqueName("auth-job");
const jobs = [
  defineJob({ name: scheduled, description: "t", overlap: "allow", handler: async () => ({ ok: 1 }) }),
  defineJob({ name: oneTime, description: "t", overlap: "allow", payload: z.object({ id: z.number() }), handler: async () => ({ ok: 1 }) }),
];
const entries = [{ job: scheduled, cron: "*/5 * * * *" }];
const deps = testDeps(jobs, entries);
const noSecret = testDeps(jobs, entries, { CRON_SECRET: undefined });

for (const [kind, job, other, body] of [
  ["cron", scheduled, `/api/jobs/${oneTime}`, "{}"],
  ["jobs", oneTime, `/api/cron/${scheduled}`, '{"id":7}'],
] as const) {
  describe(`signed route /api/${kind}/[job]`, () => {
    const route = jobRoute(kind, async () => deps);
    const bare = jobRoute(kind, async () => noSecret);
    signedRouteContract(() => ({
      path: `/api/${kind}/${job}`,
      otherPath: other,
      body,
      handle: (req) => route.POST(req, params(job)),
      handleWithoutSecret: (req) => bare.POST(req, params(job)),
      written: async () => (await ledger(job)).length,
      bearer: true,
    }));
  });
}
