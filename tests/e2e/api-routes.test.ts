import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { signJwt } from "../../dev/qstash/sign";
import { claimsFor } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { sharedBuild } from "./shared-build";
import { createE2eDatabase, freePort, startNextProduction, type E2eDatabase, type NextApp } from "./support";

/**
 * Every route handler under app/ through a real Next server (`next start` of the run's shared
 * production build, as a deployment runs it; tests/e2e/local-stack.test.ts drives `next dev`), called
 * the way Next calls it: a route without a dynamic segment gets no `params`, a body is a real request body. Each
 * product's API is driven as its docs show (the campaign and the form of products/campaigns/README.md
 * and products/forms/README.md); the rest get the request that proves they are wired (a refusal names why).
 * A route file with no case here fails the last test.
 */
const SECRET = `routes-e2e-secret-${randomUUID()}`;
const SHOP_KEY = `routes-e2e-shop-${randomUUID()}`;
const COURIER_SECRET = `routes-e2e-courier-${randomUUID()}`;
/** Signed as the commerce README tells the courier to: hex HMAC-SHA256 of the raw body (no import from a product, which may be removed). */
const courierSignature = (body: string, secret: string) => createHmac("sha256", secret).update(body, "utf8").digest("hex");
// Each product API takes its own key; CRON_SECRET (which runs every job) is refused there.
const FORMS_KEY = `routes-e2e-forms-${randomUUID()}`;
const CAMPAIGNS_KEY = `routes-e2e-campaigns-${randomUUID()}`;
let db: E2eDatabase;
let qstash: QStashServer;
let app: NextApp | undefined;

beforeAll(async () => {
  db = await createE2eDatabase(testDatabaseUrl(), "cronlayer_routes_e2e");
  qstash = await startQStashServer({ port: 0, currentSigningKey: `sig_routes_cur_${randomUUID()}`, nextSigningKey: `sig_routes_next_${randomUUID()}` });
  const port = await freePort();
  const distDir = await sharedBuild();
  app = await startNextProduction(
    {
      APP_ENV: "test",
      APP_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: db.url,
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstash.token,
      QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
      CRON_SECRET: SECRET,
      OPS_PASSWORD: `ops-${randomUUID()}`,
      SCHEDULE_PREFIX: `routes${randomUUID().slice(0, 6)}`,
      RAZORPAY_WEBHOOK_SECRET: `whsec-${randomUUID()}`,
      COMMERCE_API_KEY: SHOP_KEY,
      COURIER_WEBHOOK_SECRET: COURIER_SECRET,
      FORMS_API_KEY: FORMS_KEY,
      CAMPAIGNS_API_KEY: CAMPAIGNS_KEY,
      LOG_LEVEL: "warn",
    },
    { port, distDir },
  );
}, 600_000);

afterAll(async () => {
  await app?.stop();
  await qstash?.close();
  await db?.drop();
});

const bearer = { authorization: `Bearer ${SECRET}` };
const jsonHeaders = { ...bearer, "content-type": "application/json" };
const forms = { authorization: `Bearer ${FORMS_KEY}` };
const formsJson = { ...forms, "content-type": "application/json" };
const campaigns = { authorization: `Bearer ${CAMPAIGNS_KEY}` };
const campaignsJson = { ...campaigns, "content-type": "application/json" };
/** Which route file (as its folder under app/) and method each request exercised. */
const covered = new Set<string>();

async function call(route: string, method: string, url: string, init: RequestInit = {}): Promise<{ status: number; text: string; json: () => unknown; headers: Headers }> {
  covered.add(`${method} ${route}`);
  const res = await fetch(`${app!.url}${url}`, { method, redirect: "manual", ...init, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) };
}

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe("every route through next start", { timeout: 90_000 }, () => {
  it("campaigns: the docs' example creates a campaign (201), which reads back, plans a user and tells their story", async () => {
    const created = await call("/api/campaigns", "POST", "/api/campaigns", {
      headers: campaignsJson,
      body: JSON.stringify({
        name: "welcome",
        zone: "Europe/Lisbon",
        nodes: [
          { id: "welcome_email", type: "email", config: { subject: "Welcome", text: "Hello" }, next: "pause", timeoutSeconds: 86400 },
          { id: "pause", type: "wait", config: { seconds: 86400 }, next: "nudge", timing: "immediate" },
          { id: "nudge", type: "notification", config: { workflowId: "campaign-nudge" }, timeoutSeconds: 86400 },
        ],
      }),
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: string };
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const read = await call("/api/campaigns/[id]", "GET", `/api/campaigns/${id}`, { headers: campaigns });
    expect(read.status, read.text).toBe(200);
    expect(read.json()).toMatchObject({ id, name: "welcome" });

    const users = [{ userId: "42", productUserId: "user_42", email: "ana@example.com", zone: "Asia/Kolkata" }];
    const planned = await call("/api/campaigns/[id]/runs", "POST", `/api/campaigns/${id}/runs`, { headers: campaignsJson, body: JSON.stringify({ nodeId: "welcome_email", businessHours: true, users }) });
    expect(planned.status, planned.text).toBe(202);
    expect(planned.json()).toMatchObject({ planned: 1 });

    const moved = await call("/api/campaigns/[id]/runs", "PATCH", `/api/campaigns/${id}/runs`, { headers: campaignsJson, body: JSON.stringify({ nodeId: "welcome_email", productUserId: "user_42", at: future(3) }) });
    expect(moved.status, moved.text).toBe(200);

    const story = await call("/api/campaigns/[id]/users/[productUserId]", "GET", `/api/campaigns/${id}/users/user_42`, { headers: campaigns });
    expect(story.status, story.text).toBe(200);

    const cancelled = await call("/api/campaigns/[id]/runs", "DELETE", `/api/campaigns/${id}/runs?nodeId=welcome_email&productUserId=user_42`, { headers: campaigns });
    expect(cancelled.status, cancelled.text).toBe(200);
  });

  it("campaigns: a bad id is a 400 naming the field, not a 500", async () => {
    const r = await call("/api/campaigns/[id]", "GET", "/api/campaigns/not-a-uuid", { headers: campaigns });
    expect(r.status, r.text).toBe(400);
    expect(r.json()).toMatchObject({ field: "id" });
  });

  it("forms: the docs' calls create, read, move and submit a form", async () => {
    const created = await call("/api/forms", "POST", "/api/forms", {
      headers: formsJson,
      body: JSON.stringify({ patient: { name: "Maria Garcia", phone: "+15550100101", zone: "America/Los_Angeles" }, title: "New patient intake", deadline: future(5) }),
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: string };
    const read = await call("/api/forms/[id]", "GET", `/api/forms/${id}`, { headers: forms });
    expect(read.status, read.text).toBe(200);
    expect(read.json()).toMatchObject({ id, status: "pending" });
    const moved = await call("/api/forms/[id]", "PATCH", `/api/forms/${id}`, { headers: formsJson, body: JSON.stringify({ deadline: future(6) }) });
    expect(moved.status, moved.text).toBe(200);
    const submitted = await call("/api/forms/[id]/submit", "POST", `/api/forms/${id}/submit`, { headers: forms });
    expect(submitted.status, submitted.text).toBe(200);
  });

  it("the forms and campaigns APIs refuse CRON_SECRET with 401 naming their own key, and store nothing", async () => {
    const before = await db.sql<{ n: number }[]>`select (select count(*)::int from forms) + (select count(*)::int from campaigns) as n`;
    const form = await call("/api/forms", "POST", "/api/forms", {
      headers: jsonHeaders,
      body: JSON.stringify({ patient: { name: "Ada Lovelace", phone: "+15550100102" }, title: "Consent", deadline: future(5) }),
    });
    expect(form.status, form.text).toBe(401);
    expect(form.json()).toEqual({ error: "the forms API does not take CRON_SECRET (it can run every job): send Authorization: Bearer <FORMS_API_KEY>" });
    const campaign = await call("/api/campaigns", "POST", "/api/campaigns", { headers: jsonHeaders, body: JSON.stringify({ name: "x", nodes: [] }) });
    expect(campaign.status, campaign.text).toBe(401);
    expect(campaign.json()).toEqual({ error: "the campaigns API does not take CRON_SECRET (it can run every job): send Authorization: Bearer <CAMPAIGNS_API_KEY>" });
    const after = await db.sql<{ n: number }[]>`select (select count(*)::int from forms) + (select count(*)::int from campaigns) as n`;
    expect(after).toEqual(before);
  });

  it("jobs: a job runs by hand with the Bearer secret on both job routes; HEAD is refused without running it", async () => {
    const cron = await call("/api/cron/[job]", "GET", "/api/cron/cleanup-expired-reservations", { headers: bearer });
    expect(cron.status, cron.text).toBe(200);
    const post = await call("/api/cron/[job]", "POST", "/api/cron/cleanup-expired-reservations", { headers: jsonHeaders, body: "{}" });
    expect(post.status, post.text).toBe(200);
    const job = await call("/api/jobs/[job]", "POST", "/api/jobs/heartbeat", { headers: jsonHeaders, body: "{}" });
    expect(job.status, job.text).toBe(200);
    const get = await call("/api/jobs/[job]", "GET", "/api/jobs/heartbeat", { headers: bearer });
    expect(get.status, get.text).toBe(200);
    for (const route of ["/api/cron/[job]", "/api/jobs/[job]"]) {
      const head = await call(route, "HEAD", route.replace("[job]", "heartbeat"));
      expect(head.status).toBe(405);
    }
  });

  it("jobs: a slot run signed for its URL with the query runs with its slot; a Bearer caller cannot name a slot", async () => {
    const slot = new Date(Math.floor(Date.now() / 900_000) * 900_000 - 900_000).toISOString(); // a past */15 tick
    const path = `/api/jobs/cleanup-expired-reservations?slot=${encodeURIComponent(slot)}&trigger=backfill`;
    const claims = claimsFor(`${app!.url}${path}`, "{}");
    const signed = await call("/api/jobs/[job]", "POST", path, { headers: { "content-type": "application/json", "upstash-signature": signJwt(claims, qstash.currentSigningKey) }, body: "{}" });
    expect(signed.status, signed.text).toBe(200);
    expect(signed.json()).toMatchObject({ status: "succeeded" });
    const bearerSlot = await call("/api/jobs/[job]", "GET", path, { headers: bearer });
    expect(bearerSlot.status, bearerSlot.text).toBe(489);
    expect(bearerSlot.json()).toEqual({ error: "slot and trigger are accepted only on QStash-signed deliveries: run past slots with pnpm job:backfill or the console's Backfill" });
  });

  it("the failure callback takes only signed requests", async () => {
    const r = await call("/api/jobs/failed", "POST", "/api/jobs/failed", { headers: jsonHeaders, body: "{}" });
    expect(r.status, r.text).toBe(401);
  });

  it("diagnostics, metrics and the schedule sync answer with the Bearer secret", async () => {
    const diag = await call("/api/diagnostics", "GET", "/api/diagnostics", { headers: bearer });
    expect([200, 503], diag.text).toContain(diag.status);
    expect(diag.json()).toHaveProperty("status");
    const metrics = await call("/api/metrics", "GET", "/api/metrics", { headers: bearer });
    expect(metrics.status, metrics.text).toBe(200);
    expect(metrics.text).toMatch(/^# HELP /m);
    const sync = await call("/api/schedules/sync", "POST", "/api/schedules/sync", { headers: bearer });
    expect(sync.status, sync.text).toBe(200);
  });

  it("the shop's webhook refuses an unsigned event; an unsubscribe link without a valid token is refused", async () => {
    const hook = await call("/api/commerce/razorpay-webhook", "POST", "/api/commerce/razorpay-webhook", { headers: { "content-type": "application/json" }, body: JSON.stringify({ event: "payment.captured" }) });
    expect(hook.status, hook.text).toBe(401);
    const unsub = await call("/api/engagement/unsubscribe", "GET", "/api/engagement/unsubscribe?token=nope");
    expect([400, 404], unsub.text).toContain(unsub.status);
  });

  it("the shop's order-status route takes only its key and finds no such order; the courier webhook takes only signed events", async () => {
    const order = randomUUID();
    const status = (headers: Record<string, string>) =>
      call("/api/commerce/orders/[id]/status", "POST", `/api/commerce/orders/${order}/status`, { headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ status: "cancelled" }) });
    const unkeyed = await status(bearer);
    expect(unkeyed.status, unkeyed.text).toBe(401);
    const keyed = await status({ authorization: `Bearer ${SHOP_KEY}` });
    expect(keyed.status, keyed.text).toBe(404);
    expect(keyed.json()).toEqual({ error: `id: no order ${order}`, field: "id" });

    const body = JSON.stringify({ event: "delivered", trackingNumber: "E2E-NONE" });
    const courier = (headers: Record<string, string>) => call("/api/commerce/courier-webhook", "POST", "/api/commerce/courier-webhook", { headers: { "content-type": "application/json", ...headers }, body });
    const unsigned = await courier({});
    expect(unsigned.status, unsigned.text).toBe(401);
    const signed = await courier({ "x-courier-signature": courierSignature(body, COURIER_SECRET) });
    expect(signed.status, signed.text).toBe(404);
    expect(signed.json()).toMatchObject({ field: "trackingNumber" });
  });

  it("the console's forms: a wrong password goes back to the sign-in; actions and sign-out without a session are refused", async () => {
    const origin = { origin: app!.url, "content-type": "application/x-www-form-urlencoded" };
    const signIn = await call("/ops/session", "POST", "/ops/session", { headers: origin, body: "name=ci&password=wrong&next=%2Fops" });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("location")).toMatch(/\/ops\/login\?.*error=wrong/);
    const action = await call("/ops/actions/[action]", "POST", "/ops/actions/run", { headers: origin, body: "job=heartbeat" });
    expect([303, 401, 403]).toContain(action.status);
    const out = await call("/ops/logout", "POST", "/ops/logout", { headers: origin, body: "" });
    expect([303, 401, 403]).toContain(out.status);
    // The live refresh's version is for a signed-in console only.
    const live = await call("/ops/live", "GET", "/ops/live");
    expect(live.status, live.text).toBe(401);
    expect(live.json()).toEqual({ error: "not signed in: sign in at /ops/login" });
  });

  it("every route file under app/ and each method it exports has a case above", () => {
    const routes = routeFiles(path.resolve("app")).flatMap(({ route, methods }) => methods.map((m) => `${m} ${route}`));
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((r) => !covered.has(r))).toEqual([]);
  });
});

/** app/**\/route.ts as URL patterns ("/api/campaigns/[id]") with the HTTP methods each exports. */
function routeFiles(dir: string, base = ""): { route: string; methods: string[] }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return routeFiles(path.join(dir, e.name), `${base}/${e.name}`);
    if (e.name !== "route.ts") return [];
    const text = readFileSync(path.join(dir, e.name), "utf8");
    const exported = text.split("\n").filter((l) => l.startsWith("export "));
    const methods = [...new Set(exported.flatMap((l) => l.match(/\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b/g) ?? []))];
    return [{ route: base || "/", methods }];
  });
}
