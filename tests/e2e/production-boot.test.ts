import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../../dev/qstash/sign";
import { LOCAL_CRON_SECRET, LOCAL_QSTASH } from "../../lib/env";
import { claimsFor, KEYS } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { sharedBuild } from "./shared-build";
import { createE2eDatabase, freePort, startNextProduction, type E2eDatabase, type NextApp } from "./support";

/**
 * The built app under `next start`, as on a VM, Fly, Render or in a container: NODE_ENV=production,
 * a public APP_URL and none of the secrets. Nothing says APP_ENV=local, so the well-known local
 * secret and signing keys must get nowhere, and nothing may run.
 */
const APP_URL = "https://jobs.example.com";
let DIST: string;
let db: E2eDatabase;
let app: NextApp | undefined;

beforeAll(async () => {
  db = await createE2eDatabase(testDatabaseUrl(), "cronlayer_prod_boot");
  // Built as a container image would be: no deployment env at build time, secrets meant for run time.
  // The run's one shared build (the ops console and the fault suite start the same one).
  DIST = await sharedBuild();
  app = await startNextProduction({ APP_URL, DATABASE_URL: db.url, PRODUCTS: "marketplace" }, { port: await freePort(), distDir: DIST });
}, 600_000);

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

/**
 * The same build, configured completely, with PRODUCTS=forms: the other products' routes and jobs
 * are not there (404 after authentication) and nothing of theirs runs or is written.
 */
describe("a production server that runs one product (PRODUCTS=forms)", () => {
  const SECRET = "products-e2e-cron-secret-0123456789";
  let one: NextApp | undefined;
  beforeAll(async () => {
    one = await startNextProduction(
      {
        APP_URL,
        DATABASE_URL: db.url,
        PRODUCTS: "forms",
        CRON_SECRET: SECRET,
        QSTASH_TOKEN: "products-e2e-token",
        QSTASH_CURRENT_SIGNING_KEY: KEYS.current,
        QSTASH_NEXT_SIGNING_KEY: KEYS.next,
        SCHEDULE_PREFIX: "products-e2e",
      },
      { port: await freePort(), distDir: DIST },
    );
  }, 120_000);
  afterAll(async () => {
    await one?.stop();
  });

  const signed = (path: string, body = "{}") =>
    fetch(`${one!.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "upstash-signature": signJwt(claimsFor(`${APP_URL}${path}`, body), KEYS.current), "upstash-message-id": `msg_${path.length}_${Date.now()}` },
      body,
    });

  it("answers a signed delivery of another product's job 404, and an unsigned one 401 (authentication first)", async () => {
    const res = await signed("/api/jobs/process-expert-transfers");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/unknown job "process-expert-transfers"/);
    expect((await fetch(`${one!.url}/api/jobs/process-expert-transfers`, { method: "POST", body: "{}" })).status).toBe(401);
    const cron = await fetch(`${one!.url}/api/cron/cleanup-inventory-locks`, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(cron.status).toBe(404);
  });

  it("answers another product's HTTP routes 404 without running them", async () => {
    const campaigns = await fetch(`${one!.url}/api/campaigns`, { method: "POST", headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" }, body: "{}" });
    expect(campaigns.status).toBe(404);
    expect(((await campaigns.json()) as { error: string }).error).toMatch(/campaigns product is not enabled/);
    const webhook = await fetch(`${one!.url}/api/commerce/razorpay-webhook`, { method: "POST", body: "{}" });
    expect(webhook.status).toBe(404);
    const unsubscribe = await fetch(`${one!.url}/api/engagement/unsubscribe?token=x`);
    expect(unsubscribe.status).toBe(404);
  });

  it("runs the enabled product's routes: without FORMS_API_KEY the forms API itself refuses (503 naming it), not 404", async () => {
    const res = await fetch(`${one!.url}/api/forms`, { method: "POST", headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/^the forms API is closed: FORMS_API_KEY is not set/);
  });

  it("lists only the layer's and the enabled product's schedules on its home page", async () => {
    const html = await (await fetch(`${one!.url}/`)).text();
    expect(html).toContain('data-job="check-forms"');
    expect(html).not.toContain('data-job="process-expert-transfers"');
    expect(html).not.toContain('data-job="daily-sales-summary"');
  });

  it("wrote nothing for the disabled products", async () => {
    expect(await counts()).toEqual({ runs: 0, outbox: 0 });
  });
});
