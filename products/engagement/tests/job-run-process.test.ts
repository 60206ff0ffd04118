import { execFile } from "node:child_process";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQStashServer } from "../../../dev/qstash/server";
import { LOCAL_QSTASH } from "@/lib/env";
import { ledger } from "../../../tests/support/app";
import { testDatabaseUrl } from "../../../tests/support/db";
import { insertLearner, resetEngagement } from "./support";

/**
 * What a container scheduler runs (Fly scheduled machine, Kubernetes CronJob): `pnpm job:run
 * <job>` as its own process, no HTTP, a stats line on stdout and the exit code.
 */
function jobRun(job: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "pnpm",
      ["exec", "tsx", "scripts/job-run.ts", job],
      { env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: testDatabaseUrl(), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
beforeAll(async () => void (qstash = await startQStashServer({ port: 0 })));
afterAll(() => qstash.close());
beforeEach(() => resetEngagement());

describe("pnpm job:run plan-founder-emails (a separate process)", { timeout: 90_000 }, () => {
  it("prints the stats line and exits 0; the run is in the ledger with trigger cli", async () => {
    await insertLearner({ zone: "UTC", signedUpAt: new Date(Date.now() - 86_400_000) });
    await insertLearner({ zone: "UTC", signedUpAt: new Date(Date.now() - 2 * 86_400_000) });
    // APP_URL is where QStash would deliver; nothing listens there and nothing needs to.
    const r = await jobRun("plan-founder-emails", { QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token, APP_URL: "http://127.0.0.1:9" });
    expect(r.stderr).toBe("");
    const [row] = (await ledger("plan-founder-emails")).slice(-1);
    expect(r.stdout).toBe(`plan-founder-emails succeeded in ${r.stdout.match(/in (\S+ m?s)/)![1]} (run ${row!.id}): Day1 1, Day2 1, Day3 0, messages 1, deduplicated 0\n`);
    expect(r.code).toBe(0);
    expect(row).toMatchObject({ trigger: "cli", status: "succeeded", stats: { Day1: 1, Day2: 1, Day3: 0, messages: 1, deduplicated: 0 } });
    // One page of both learners: one message, one Resend batch at delivery.
    expect(Object.values(qstash.state.messages).map((m) => m.url)).toEqual(["http://127.0.0.1:9/api/jobs/send-founder-email"]);
  });

  it("exits 1 with the error on stderr when the run fails (QStash unreachable)", async () => {
    await insertLearner({ zone: "UTC", signedUpAt: new Date(Date.now() - 86_400_000) });
    const r = await jobRun("plan-founder-emails", { QSTASH_URL: "http://127.0.0.1:9", QSTASH_TOKEN: LOCAL_QSTASH.token, APP_URL: "http://127.0.0.1:9" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: plan-founder-emails failed after .* \(run [0-9a-f-]{36}\): /);
    expect((await ledger("plan-founder-emails")).slice(-1)[0]).toMatchObject({ trigger: "cli", status: "failed" });
  });
});
