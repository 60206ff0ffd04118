import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer } from "../../dev/qstash/server";
import { LOCAL_QSTASH } from "../../lib/env";
import { ledger } from "../support/app";
import { testDatabaseUrl } from "../support/db";

/** Runs a script as an operator would (`pnpm exec tsx scripts/<name>.ts ...`): real argv, env and exit code. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "pnpm",
      ["exec", "tsx", `scripts/${script}.ts`, ...args],
      // A clean env: nothing from this shell's QSTASH_* or DATABASE_URL leaks in.
      { env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: testDatabaseUrl(), ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
beforeAll(async () => void (qstash = await startQStashServer({ port: 0 })));
afterAll(() => qstash.close());

describe("the scripts end to end (spawned)", { timeout: 120_000 }, () => {
  it("qstash:schedule --check exits 2, applies, then --check exits 0; qstash:cleanup --yes removes ours", async () => {
    // The app's own registry (config/qstash.ts), against the in-process local server.
    const env = { QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: `e2e${randomUUID().slice(0, 6)}`, APP_URL: "http://127.0.0.1:9" };
    const pending = await run("qstash-schedule", ["--check"], env);
    expect(pending.code).toBe(2);
    expect(pending.stdout).toMatch(/change\(s\) pending: run pnpm qstash:schedule to apply them\./);
    const applied = await run("qstash-schedule", [], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Verified: QStash now matches config\/qstash\.ts \(\d+ schedules\)\./);
    expect(applied.stdout).toContain(`created ${env.SCHEDULE_PREFIX}-cleanup-expired-reservations`);
    const clean = await run("qstash-schedule", ["--check"], env);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain("No changes: QStash already matches config/qstash.ts");
    const gone = await run("qstash-cleanup", ["--yes"], env);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(new RegExp(`Deleted \\d+ schedule\\(s\\) with prefix "${env.SCHEDULE_PREFIX}"`));
    expect(Object.keys(qstash.state.schedules).filter((id) => id.startsWith(`${env.SCHEDULE_PREFIX}-`))).toEqual([]);
  });

  it('cron:next "30 1 * * *" --tz Europe/Lisbon -n 400 marks the two DST nights of 2027', async () => {
    const r = await run("cron-next", ["30 1 * * *", "--tz", "Europe/Lisbon", "-n", "400", "--from", "2026-11-23T00:00:00Z"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const marked = r.stdout.split("\n").filter((l) => l.includes("DST:"));
    expect(marked).toHaveLength(2);
    expect(marked[0]).toMatch(/│ 126 │ Sun 2027-03-28 01:00 │ Sun 2027-03-28 02:00 \+01:00 WEST │ 0 1 28 3 \* +│ DST: 01:30 does not exist on 2027-03-28 \(clocks jump 01:00 -> 02:00, \+00:00 WET -> \+01:00 WEST\); croner runs it at 02:00/);
    expect(marked[1]).toMatch(/│ 343 │ Sun 2027-10-31 00:30 │ Sun 2027-10-31 01:30 \+01:00 WEST │ 30 0 30,31 10 \* +│ DST: 01:30 happens twice on 2027-10-31 \(clocks go back 02:00 -> 01:00, \+01:00 WEST -> \+00:00 WET\); runs once, at the first/);
    expect(r.stdout).toContain("│ 400 │ Mon 2027-12-27 01:30 │");
  });

  it("job:run runs a job of the app's registry in-process, recorded with trigger cli; exit 2 on a bad payload", async () => {
    const ok = await run("job-run", ["heartbeat", "--json"]);
    expect(ok.code).toBe(0);
    const out = JSON.parse(ok.stdout) as { runId: string; status: string };
    expect(out).toMatchObject({ job: "heartbeat", status: "succeeded", stats: { ok: true, slot: null } });
    const row = (await ledger("heartbeat")).find((r) => r.id === out.runId);
    expect(row).toMatchObject({ trigger: "cli", status: "succeeded" });

    const bad = await run("job-run", ["heartbeat", "--payload", "{not json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --payload for heartbeat: the body is not JSON/);

    const unknown = await run("job-run", ["no-such-job"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown job "no-such-job"\. Jobs: .*heartbeat/);
  });

  it("exits 2 on an unknown option, 0 for --help", async () => {
    const bad = await run("qstash-schedule", ["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error: unknown option '--frobnicate'");
    const help = await run("qstash-dlq", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: pnpm qstash:dlq \[options\] \[command\]/);
    for (const sub of ["list [options]", "show [options] <id>", "retry [options] <id...>", "delete [options] <id...>"]) expect(help.stdout).toContain(`  ${sub}`);
    const subBad = await run("qstash-dlq", ["show"]);
    expect(subBad.code).toBe(2);
    expect(subBad.stderr).toContain("error: missing required argument 'id'");
  });
});
