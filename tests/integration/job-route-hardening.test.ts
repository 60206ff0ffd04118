import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/define";
import { jobRoute } from "../../lib/http/job-route";
import { bearerRequest, CRON_SECRET, ledger, params, qstashRequest, testDeps, uniqueName } from "../support/app";

const name = uniqueName("hardening");
const calls: string[] = [];
const job = defineJob({
  name,
  description: "t",
  overlap: "allow",
  handler: async ({ run }) => {
    calls.push(run.id);
    return { attempt: run.attempt };
  },
});
const deps = testDeps([job], [{ job: name, cron: "0 * * * *" }]);
const cron = jobRoute("cron", async () => deps);
const jobs = jobRoute("jobs", async () => deps);

const bodyOf = async (res: Response) => (await res.json()) as Record<string, unknown>;

describe("job routes: what an anonymous caller learns, and what bad headers get", () => {
  it("answers an anonymous request for an unknown job 401, without the list of jobs", async () => {
    for (const route of [cron, jobs]) {
      const res = await route.POST(bearerRequest("/api/cron/no-such-job", undefined, { method: "POST", body: "{}" }), params("no-such-job"));
      expect(res.status).toBe(401);
      const body = await bodyOf(res);
      expect(body).not.toHaveProperty("jobs");
      expect(JSON.stringify(body)).not.toContain(name);
    }
    const wrong = await cron.GET(bearerRequest("/api/cron/no-such-job", "Bearer wrong-secret-0123456789"), params("no-such-job"));
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await bodyOf(wrong))).not.toContain(name);
  });

  it("answers an authenticated request for an unknown job 404 with the list, by Bearer or by signature", async () => {
    const byBearer = await cron.GET(bearerRequest("/api/cron/no-such-job", `Bearer ${CRON_SECRET}`), params("no-such-job"));
    expect(byBearer.status).toBe(404);
    expect((await bodyOf(byBearer)).jobs).toContain(name);
    const signed = await jobs.POST(qstashRequest("/api/jobs/no-such-job", "{}"), params("no-such-job"));
    expect(signed.status).toBe(404);
    expect((await bodyOf(signed)).jobs).toContain(name);
  });

  it("answers HEAD with 405 and runs nothing, even with the Bearer secret", async () => {
    const before = calls.length;
    const res = await cron.HEAD();
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect(calls.length).toBe(before);
    expect((await ledger(name)).filter((r) => r.trigger === "manual")).toHaveLength(0);
  });

  it("refuses an Upstash-Retried that is not a small whole number with 489, writing nothing", async () => {
    const before = (await ledger(name)).length;
    for (const retried of ["99999999999999999999", "-1", "1e3", "abc", "2147483648"]) {
      const req = qstashRequest(`/api/jobs/${name}`, "{}");
      req.headers.set("upstash-retried", retried);
      const res = await jobs.POST(req, params(name));
      expect(res.status, retried).toBe(489);
      expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    }
    expect((await ledger(name)).length).toBe(before);
    const ok = await jobs.POST(qstashRequest(`/api/jobs/${name}`, "{}", { retried: 3 }), params(name));
    expect(ok.status).toBe(200);
    expect(((await bodyOf(ok)).stats as { attempt: number }).attempt).toBe(3);
  });
});
