import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as cronRoute from "@/app/api/cron/[job]/route";
import * as failedRoute from "@/app/api/jobs/failed/route";
import * as jobsRoute from "@/app/api/jobs/[job]/route";
import { catalog, composeRegistry } from "@/config/app";

/** What the README promises a deployment gets: Vercel Hobby with Fluid compute (Pro's default too). */
const PLAN_LIMIT_S = 300;
/**
 * Time a request spends outside its job's timer: authentication and opening the run before it,
 * closing the run after it. Each is a bounded database call; 20 s covers them with room to spare.
 */
const MARGIN_S = 20;

const routes = {
  "app/api/cron/[job]/route.ts": cronRoute,
  "app/api/jobs/[job]/route.ts": jobsRoute,
  "app/api/jobs/failed/route.ts": failedRoute,
};

describe("Vercel function limits", () => {
  it("the README states the plan limit this test holds the routes to", () => {
    expect(readFileSync("README.md", "utf8")).toContain(`${PLAN_LIMIT_S} s on Hobby`);
  });

  it("every route exports maxDuration as a literal, which is the only form Next.js reads", () => {
    for (const [file, mod] of Object.entries(routes)) {
      const source = readFileSync(file, "utf8");
      const literal = /^export const maxDuration = (\d+);/m.exec(source);
      expect(literal, `${file} must export \`const maxDuration = <seconds>\` as a number literal`).not.toBeNull();
      expect(mod.maxDuration).toBe(Number(literal![1]));
      expect(mod.maxDuration).toBeLessThanOrEqual(PLAN_LIMIT_S);
    }
  });

  it("every registered job's timeout, schedule overrides included, fits under the job routes' maxDuration with a margin", () => {
    const registry = composeRegistry(catalog);
    const names = [...registry.jobs.keys()];
    expect(names.length).toBeGreaterThan(5);
    // `jobs` serves every job and `cron` the scheduled ones (Vercel's keep-alive too): both bound all.
    const tooLong = names
      .map((job) => ({ job, timeoutS: Math.ceil(registry.settingsOf(job).timeoutMs / 1000) }))
      .filter(({ timeoutS }) => timeoutS + MARGIN_S > Math.min(cronRoute.maxDuration, jobsRoute.maxDuration));
    // Named, so the message says which job to shorten (or to split into per-item one-time jobs).
    expect(tooLong).toEqual([]);
  });

  it("the failure callback gets room for its signature check and one database call", () => {
    expect(failedRoute.maxDuration).toBeGreaterThanOrEqual(MARGIN_S);
    expect(failedRoute.maxDuration).toBeLessThanOrEqual(PLAN_LIMIT_S);
  });
});
