import { gunzipSync } from "node:zlib";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { defineJob } from "@/lib/jobs/define";
import { runJob } from "@/lib/jobs/run";
import { server } from "../../../tests/mocks/server";
import { testDeps, uniqueName } from "../../../tests/support/app";

const HOST = "https://posthog.example.test";
const KEY = "phc_test_project_key_0123456789";
const ok = defineJob({ name: uniqueName("sends-eight"), description: "t", overlap: "allow", handler: async () => ({ sent: 8, failed: 0 }) });
const bad = defineJob({ name: uniqueName("breaks"), description: "t", overlap: "allow", handler: async () => Promise.reject(new Error("no route to the mail server")) });
const withKey = testDeps([ok, bad], [], { POSTHOG_KEY: KEY, POSTHOG_HOST: HOST });
const withoutKey = testDeps([ok], []);

interface Captured {
  path: string;
  body: { api_key: string; batch?: { event: string; distinct_id: string; properties: Record<string, unknown> }[] };
}

/** PostHog's ingestion edge: every request, body decoded as the SDK sent it (gzip or not). */
function posthog(status = 200): Captured[] {
  const seen: Captured[] = [];
  server.use(
    http.post(`${HOST}/*`, async ({ request }) => {
      const raw = Buffer.from(await request.arrayBuffer());
      const text = request.headers.get("content-encoding") === "gzip" ? gunzipSync(raw).toString("utf8") : raw.toString("utf8");
      seen.push({ path: new URL(request.url).pathname, body: JSON.parse(text) as Captured["body"] });
      // No body: the SDK cancels the body of a successful write unread, and a mocked stream's cancel
      // never settles (over a real socket it does), which would hold each test for the SDK's timeout.
      return new HttpResponse(null, { status });
    }),
  );
  return seen;
}

describe("job_completed to PostHog", () => {
  it("sends one event per run, with job, stats and duration, before the run answers", async () => {
    const seen = posthog();
    const run = await runJob({ job: ok.name, payload: {}, trigger: "cli" }, withKey);
    expect(run).toMatchObject({ status: "succeeded", stats: { sent: 8, failed: 0 } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe("/batch/");
    expect(seen[0]!.body.api_key).toBe(KEY);
    expect(seen[0]!.body.batch).toEqual([
      expect.objectContaining({
        event: "job_completed",
        distinct_id: `job:${ok.name}`,
        properties: expect.objectContaining({
          job: ok.name,
          status: "succeeded",
          trigger: "cli",
          stats: { sent: 8, failed: 0 },
          duration_ms: expect.any(Number),
          run_id: run.status === "succeeded" ? run.runId : "",
          $process_person_profile: false,
        }),
      }),
    ]);
  });

  it("reports failed runs too, with the error's name", async () => {
    const seen = posthog();
    expect(await runJob({ job: bad.name, payload: {}, trigger: "cli" }, withKey)).toMatchObject({ status: "failed" });
    expect(seen.map((s) => s.body.batch![0]!.properties)).toEqual([expect.objectContaining({ job: bad.name, status: "failed", stats: {}, error: "Error" })]);
  });

  it("never fails a run when PostHog does", async () => {
    const seen = posthog(503);
    expect(await runJob({ job: ok.name, payload: {}, trigger: "cli" }, withKey)).toMatchObject({ status: "succeeded" });
    expect(seen).toHaveLength(1);
  });

  it("sends nothing without POSTHOG_KEY", async () => {
    const seen = posthog();
    expect(await runJob({ job: ok.name, payload: {}, trigger: "cli" }, withoutKey)).toMatchObject({ status: "succeeded" });
    expect(seen).toEqual([]);
  });
});
