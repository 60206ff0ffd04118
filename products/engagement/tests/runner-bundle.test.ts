import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildRunner, RUNNER_FILE } from "@/lib/build/runner-bundle";
import { ledger, sql } from "../../../tests/support/app";
import { testDatabaseUrl } from "../../../tests/support/db";
import { insertLearner, resetEngagement } from "./support";

/**
 * The deployment of deploy/: the bundled runner alone in a folder (no node_modules above it, no
 * tsx), `node runner.mjs plan-founder-emails --in-process` in production mode with no QStash
 * variable and no app. Resend is a recording HTTP server (a separate process cannot see msw).
 */
interface Received {
  to: string;
  idempotencyKey: string | null;
  /** Sent in a `POST /emails/batch` (its Idempotency-Key is the request's, not this email's). */
  batch: boolean;
}

let dir: string;
let resend: Server;
let resendUrl: string;
let received: Received[] = [];
let failWith: number | undefined;
const earlier = new Set<string>();
/** This test's runs of `job` (the ledger outlives resetEngagement). */
const runs = async (job: string) => (await ledger(job)).filter((r) => !earlier.has(r.id));
/** The effects these keys name that succeeded, sorted. */
const effectKeys = async (keys: string[]) =>
  (await sql()<{ key: string }[]>`select key from effects where key = any(${keys}) and status = 'succeeded' order by key`).map((r) => r.key);

beforeAll(async () => {
  const built = await mkdtemp(join(tmpdir(), "cronlayer-runner-build-"));
  await buildRunner({ root: resolve(__dirname, "../../.."), outDir: built });
  // Copied away from the build folder: what the image holds is this one file.
  dir = await mkdtemp(join(tmpdir(), "cronlayer-runner-"));
  await copyFile(join(built, RUNNER_FILE), join(dir, RUNNER_FILE));
  await rm(built, { recursive: true, force: true });
  resend = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const json = JSON.parse(body || "null") as { to: string | string[] } | { to: string | string[] }[];
      // One email per POST /emails, or a page of them per POST /emails/batch.
      const emails = Array.isArray(json) ? json : [json];
      for (const e of emails) received.push({ to: String(e.to), idempotencyKey: req.headers["idempotency-key"] as string | null, batch: Array.isArray(json) });
      res.setHeader("content-type", "application/json");
      if (failWith) {
        res.statusCode = failWith;
        return res.end(JSON.stringify({ statusCode: failWith, name: "invalid_api_key", message: "API key is invalid" }));
      }
      const ids = emails.map((_, i) => ({ id: `email-${received.length - emails.length + i + 1}` }));
      res.end(JSON.stringify(Array.isArray(json) ? { data: ids } : ids[0]));
    });
  });
  await new Promise<void>((r) => resend.listen(0, "127.0.0.1", r));
  resendUrl = `http://127.0.0.1:${(resend.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => resend?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await resetEngagement();
  received = [];
  failWith = undefined;
  for (const job of ["plan-founder-emails", "send-founder-email"]) for (const r of await ledger(job)) earlier.add(r.id);
});

function runner(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [RUNNER_FILE, ...args],
      {
        cwd: dir,
        timeout: 60_000,
        env: {
          // As the image and the manifests run it (deploy/): production, no QStash variable at all.
          NODE_ENV: "production",
          PATH: process.env.PATH!,
          APP_ENV: "production",
          PRODUCTS: "engagement",
          LOG_LEVEL: "silent",
          DATABASE_URL: testDatabaseUrl(),
          APP_URL: "https://learn.example.test",
          UNSUBSCRIBE_SECRET: "a-test-secret-of-at-least-32-characters",
          RESEND_API_KEY: "re_test_sending_only_0123456789",
          RESEND_BASE_URL: resendUrl,
          EMAIL_FROM: "Lingo <hello@mail.example.test>",
          ENGAGEMENT_EMAIL_RATE: "50",
          ...env,
        },
      },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const DAY = 86_400_000;

describe("the bundled runner (node runner.mjs, no node_modules, no QStash)", { timeout: 120_000 }, () => {
  it("is one file in its folder, with no node_modules on the way up", async () => {
    expect(await readdir(dir)).toEqual([RUNNER_FILE]);
    // Node resolves a bare import through every node_modules above the file: there must be none.
    for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, "node_modules")), d).toBe(false);
  });

  it("sends each founder email once in this process, prints the stats line and exits 0; again: nothing new", async () => {
    const day1 = await insertLearner({ signedUpAt: new Date(Date.now() - DAY) });
    const day2 = await insertLearner({ signedUpAt: new Date(Date.now() - 2 * DAY) });
    const day3 = await insertLearner({ signedUpAt: new Date(Date.now() - 3 * DAY) });

    const r = await runner(["plan-founder-emails", "--in-process", "--timeout", "10m"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const plans = await runs("plan-founder-emails");
    expect(r.stdout).toBe(`plan-founder-emails succeeded in ${r.stdout.match(/in (\S+ m?s)/)?.[1]} (run ${plans[0]!.id}): Day1 1, Day2 1, Day3 1, messages 1, deduplicated 0\n`);
    // --timeout: the planner's run is given the sends' time, not the job's 280 s.
    expect((plans[0] as unknown as { timeout_ms: number }).timeout_ms).toBe(600_000);
    expect(received.map((e) => e.to).sort()).toEqual([day1.email, day2.email, day3.email].sort());
    // One page, one request: the three emails go in one POST /emails/batch under one Idempotency-Key.
    expect(received.every((e) => e.batch)).toBe(true);
    expect(new Set(received.map((e) => e.idempotencyKey)).size).toBe(1);
    expect(received[0]!.idempotencyKey).toBeTruthy();
    // The page is a run of its own in the ledger, as a delivery would be, and each email an effect.
    expect((await runs("send-founder-email")).map((x) => [x.trigger, x.status])).toEqual([["cli", "succeeded"]]);
    const keys = [`founder:${day1.id}:1`, `founder:${day2.id}:2`, `founder:${day3.id}:3`].sort();
    expect(await effectKeys(keys)).toEqual(keys);

    const again = await runner(["plan-founder-emails"], { CRONLAYER_FANOUT: "inline" });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/: Day1 0, Day2 0, Day3 0, messages 0, deduplicated 0\n$/);
    expect(received).toHaveLength(3);
  });

  it("exits 1 with the error on stderr when a send fails for good (Resend refuses the key); not retried, the planner's run failed", async () => {
    await insertLearner({ signedUpAt: new Date(Date.now() - DAY) });
    failWith = 401;
    const r = await runner(["plan-founder-emails", "--in-process"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: plan-founder-emails failed after .* \(run [0-9a-f-]{36}\): Error: 1 of 1 runs of send-founder-email failed in this process \(first: ConfigError: Resend rejected RESEND_API_KEY/);
    expect((await runs("plan-founder-emails")).at(-1)).toMatchObject({ trigger: "cli", status: "failed" });
    expect((await runs("send-founder-email")).map((x) => [x.status, x.attempt])).toEqual([["failed", 0]]);
    expect(received).toHaveLength(1);
  });

  it("without --in-process it still publishes to QStash (here: unreachable, exit 1), and sends nothing itself", async () => {
    await insertLearner({ signedUpAt: new Date(Date.now() - DAY) });
    // Port 9 (discard): nothing listens there.
    const qstash = { QSTASH_URL: "http://127.0.0.1:9", QSTASH_TOKEN: "t", QSTASH_CURRENT_SIGNING_KEY: "c", QSTASH_NEXT_SIGNING_KEY: "n", CRON_SECRET: "0123456789abcdef", SCHEDULE_PREFIX: "prod" };
    const r = await runner(["plan-founder-emails"], qstash);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: plan-founder-emails failed after /);
    expect(received).toHaveLength(0);
  });

  it("refuses an unknown CRONLAYER_FANOUT with exit 2, naming the values", async () => {
    const r = await runner(["plan-founder-emails"], { APP_ENV: "test", APP_URL: "http://127.0.0.1:9", CRONLAYER_FANOUT: "inprocess" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CRONLAYER_FANOUT must be qstash or inline, got "inprocess"');
  });
});
