import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../config/products";
import { startQStashServer } from "../../dev/qstash/server";
import { LOCAL_QSTASH } from "../../lib/env";
import { testDatabaseUrl } from "../support/db";

/** `pnpm exec tsx scripts/qstash-schedule.ts ...` as an operator runs it: real argv, env and exit code. */
function schedule(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "pnpm",
      ["exec", "tsx", "scripts/qstash-schedule.ts", ...args],
      { env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: testDatabaseUrl(), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
beforeAll(async () => void (qstash = await startQStashServer({ port: 0 })));
afterAll(() => qstash.close());

const base = () => ({ QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: `p${randomUUID().slice(0, 6)}`, APP_URL: "http://127.0.0.1:9" });
const idsOf = (prefix: string, jobs: string[]) => jobs.map((j) => `${prefix}-${j}`).sort();
const qstashJobsOf = (name: string) => catalog.find((p) => p.name === name)!.schedules.filter((s) => s.via !== "vercel").map((s) => s.job);

describe("PRODUCTS and the plan's schedule limit (qstash:schedule spawned)", { timeout: 120_000 }, () => {
  it("with PRODUCTS=marketplace plans exactly the marketplace's schedules and the layer's own, within the free plan", async () => {
    const env = { ...base(), PRODUCTS: "marketplace" };
    const r = await schedule(["--dry-run", "--json", "--plan", "free"], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { status: string; plan: { create: string[] } };
    expect(out.status).toBe("pending");
    expect(qstashJobsOf("marketplace")).toHaveLength(9);
    expect([...out.plan.create].sort()).toEqual(idsOf(env.SCHEDULE_PREFIX, [...qstashJobsOf("marketplace"), "watchdog"]));
  });

  it("with every product on the free plan refuses, naming the count, the limit and what to do; --check and --dry-run say the same", async () => {
    const env = base();
    const total = catalog.reduce((n, p) => n + p.schedules.length, 0) + 1; // + watchdog
    for (const args of [[], ["--check"], ["--dry-run"]]) {
      const r = await schedule([...args, "--plan", "free"], env);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toContain(`${total} schedules`);
      expect(r.stderr).toMatch(/exceed the free plan's 10/);
      expect(r.stderr).toMatch(/Enable fewer products \(PRODUCTS/);
      expect(r.stderr).toMatch(/--plan payg \(or QSTASH_PLAN=payg\)/);
      expect(r.stderr).toContain("Nothing was sent to QStash.");
    }
    const json = await schedule(["--dry-run", "--json", "--plan", "free"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "refused" });
    // The plan can come from the env, as a Vercel project would set it.
    const fromEnv = await schedule(["--dry-run"], { ...env, QSTASH_PLAN: "free" });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toMatch(/exceed the free plan's 10/);
  });

  it("on pay-as-you-go proceeds, and a product taken out of PRODUCTS has its schedules deleted by the next sync, after the plan says so", async () => {
    const env = base();
    const applied = await schedule(["--plan", "payg"], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`created ${env.SCHEDULE_PREFIX}-process-expert-transfers`);
    const plan = await schedule(["--dry-run", "--json", "--plan", "payg"], { ...env, PRODUCTS: "forms" });
    expect(plan.code, plan.stderr).toBe(0);
    const out = JSON.parse(plan.stdout) as { plan: { delete: string[]; unchanged: string[] } };
    expect([...out.plan.delete].sort()).toEqual(idsOf(env.SCHEDULE_PREFIX, catalog.filter((p) => p.name !== "forms").flatMap((p) => qstashJobsOf(p.name))));
    expect([...out.plan.unchanged].sort()).toEqual(idsOf(env.SCHEDULE_PREFIX, ["check-forms", "watchdog"]));
  });

  it("refuses an unknown product with the list of those that exist", async () => {
    const r = await schedule(["--dry-run"], { ...base(), PRODUCTS: "forms,shop" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`PRODUCTS names "shop", which is not a product of this app: choose from ${catalog.map((p) => p.name).join(", ")}`);
  });
});
