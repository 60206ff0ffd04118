import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../../dev/qstash/sign";
import { LOCAL_CRON_SECRET, LOCAL_QSTASH } from "../../lib/env";
import { claimsFor } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { buildNext, createE2eDatabase, freePort, startNextProduction, type E2eDatabase, type NextApp } from "./support";

/**
 * The built app under `next start`, as on a VM, Fly, Render or in a container: NODE_ENV=production,
 * a public APP_URL and none of the secrets. Nothing says APP_ENV=local, so the well-known local
 * secret and signing keys must get nowhere, and nothing may run.
 */
const APP_URL = "https://jobs.example.com";
const DIST = ".next-prod-e2e";
let db: E2eDatabase;
let app: NextApp | undefined;

beforeAll(async () => {
  db = await createE2eDatabase(testDatabaseUrl(), "cronlayer_prod_boot");
  // Built as a container image would be: no deployment env at build time, secrets meant for run time.
  buildNext(DIST);
  app = await startNextProduction({ APP_URL, DATABASE_URL: db.url }, { port: await freePort(), distDir: DIST });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  await db?.drop();
});

const counts = async () => {
  const [r] = await db.sql<{ runs: number; outbox: number }[]>`select (select count(*)::int from job_runs) as runs, (select count(*)::int from provider_outbox) as outbox`;
  return r!;
};

describe("a production server started without its secrets", () => {
  it("says at boot, before any request, that it refuses job requests and which variables are missing", async () => {
    await expect.poll(() => app!.output(), { timeout: 10_000 }).toMatch(/refuses every job request/);
    expect(app!.output()).toMatch(/CRON_SECRET is required in production/);
    expect(app!.output()).toMatch(/QSTASH_CURRENT_SIGNING_KEY is required in production/);
  });

  it("refuses the well-known local Bearer secret with 500 naming the variables, and runs nothing", async () => {
    const res = await fetch(`${app!.url}/api/cron/process-expert-transfers`, { headers: { authorization: `Bearer ${LOCAL_CRON_SECRET}` } });
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/configuration is incomplete: set .*CRON_SECRET/);
    expect(error).toMatch(/QSTASH_CURRENT_SIGNING_KEY/);
  });

  it("refuses a delivery signed with the public local signing key", async () => {
    const body = "{}";
    const signature = signJwt(claimsFor(`${APP_URL}/api/jobs/heartbeat`, body), LOCAL_QSTASH.currentSigningKey);
    const res = await fetch(`${app!.url}/api/jobs/heartbeat`, {
      method: "POST",
      headers: { "content-type": "application/json", "upstash-signature": signature, "upstash-message-id": "msg_local_key" },
      body,
    });
    expect(res.status).toBe(500);
  });

  it("answers HEAD with 405 without running anything", async () => {
    const res = await fetch(`${app!.url}/api/cron/cleanup-expired-reservations`, { method: "HEAD", headers: { authorization: `Bearer ${LOCAL_CRON_SECRET}` } });
    expect(res.status).toBe(405);
  });

  it("tells an uptime monitor it is down", async () => {
    const res = await fetch(`${app!.url}/api/diagnostics`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "down" });
  });

  it("shows the schedules a production deployment runs on its home page, without the local-only heartbeat", async () => {
    const res = await fetch(`${app!.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-job="process-expert-transfers"');
    expect(html).toContain("Vercel Cron");
    expect(html).not.toContain('data-job="heartbeat"');
  });

  it("left the ledger and the outbox empty", async () => {
    expect(await counts()).toEqual({ runs: 0, outbox: 0 });
  });
});
