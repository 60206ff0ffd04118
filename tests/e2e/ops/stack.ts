import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Client } from "@upstash/qstash";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startQStashServer, type QStashServer } from "../../../dev/qstash/server";
import { catalog, composeRegistry } from "../../../config/app";
import { loadEnv } from "../../../lib/env";
import { testDatabaseUrl } from "../../support/db";
import { watchConsole } from "../browser-console";
import { sharedBuild } from "../shared-build";
import { createE2eDatabase, freePort, startNextProduction, type E2eDatabase, type NextApp } from "../support";

/**
 * The stack every console browser test shares: the built app (the run's shared `next build`, then
 * `next start`), Debian's chromium driven by playwright-core,
 * the local QStash server on the wall clock and a PostgreSQL database of its own. One build and one
 * server for all of them: the parts (tests/e2e/ops/*.ts) run in the order ops-console.test.ts lists
 * them, in one browser page, signed in once. Screenshots go to test-results/screenshots/ (CI keeps
 * the folder; git ignores it).
 */
const SHOTS = path.resolve("test-results/screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The app's registry: the server runs every product (PRODUCTS unset in test mode). */
export const registry = composeRegistry(catalog);
export const PASSWORD = `ops-password-${randomUUID()}`;
export const JOB = "cleanup-expired-reservations";

interface OpsStack {
  db: E2eDatabase;
  qstash: QStashServer;
  app: NextApp;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  consoleOf: ReturnType<typeof watchConsole>;
  client: Client;
  env: ReturnType<typeof loadEnv>;
  /** Where the app sends voice calls (VAPI_BASE_URL): nothing listens until a part serves it (tests/e2e/ops/run.ts). */
  vapiPort: number;
}

/** Filled by setupOpsStack's beforeAll; every part reads it inside its tests. */
export const ops = {} as OpsStack;

export const url = (p: string) => `${ops.app.url}${p}`;
export const shot = (name: string) => ops.page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
export const shotFirstScreen = (name: string) => ops.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
export const runs = (trigger: string, job = JOB) => ops.db.sql<{ id: string; status: string }[]>`select id, status from job_runs where job = ${job} and trigger = ${trigger} order by started_at`;

export const OPERATOR = "Ada Oncall";

export async function signIn(password: string, name = OPERATOR) {
  const { page } = ops;
  await page.goto(url("/ops"));
  expect(new URL(page.url()).pathname).toBe("/ops/login");
  await page.fill("#name", name);
  await page.fill("#password", password);
  // The sign-in page's own URL matches /ops too: wait for the answer to the POST and where it leads.
  const before = page.url();
  await Promise.all([page.waitForURL((u) => u.href !== before, { waitUntil: "load" }), page.click("button[type=submit]")]);
}

export function setupOpsStack() {
  let db: E2eDatabase | undefined;
  let qstash: QStashServer | undefined;
  let app: NextApp | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Its own name per process: parallel runs on one server would drop each other's database.
    db = await createE2eDatabase(testDatabaseUrl(), process.env.OPS_E2E_DATABASE ?? `cronlayer_ops_e2e_${process.pid}`);
    qstash = await startQStashServer({ port: 0, currentSigningKey: `sig_ops_cur_${randomUUID()}`, nextSigningKey: `sig_ops_next_${randomUUID()}` });
    const port = await freePort();
    const vapiPort = await freePort();
    const record = {
      APP_ENV: "test",
      APP_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: db.url,
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstash.token,
      QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
      CRON_SECRET: `ops-e2e-cron-secret-${randomUUID()}`,
      OPS_PASSWORD: PASSWORD,
      SCHEDULE_PREFIX: "ops",
      // Nothing listens on port 1: keep-alive fails for a real reason (Redis down), which makes a dead letter.
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1",
      UPSTASH_REDIS_REST_TOKEN: "e2e-token",
      LOG_LEVEL: "warn",
      VAPI_API_KEY: "e2e-vapi-key",
      VAPI_ASSISTANT_ID: "e2e-assistant",
      VAPI_PHONE_NUMBER_ID: "e2e-number",
      VAPI_BASE_URL: `http://127.0.0.1:${vapiPort}`,
    };
    const env = loadEnv(record);
    const client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
    // The run's one production build (shared-build.ts): another file may be making it right now.
    const distDir = await sharedBuild();
    app = await startNextProduction(record, { port, distDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    const page = await context.newPage();
    Object.assign(ops, { db, qstash, app, browser, context, page, consoleOf: watchConsole(page), client, env, vapiPort });
  }, 660_000);

  // Invalid HTML (a form inside a p) fails hydration and shows only in the console: every page of
  // every step must leave it empty.
  afterEach(() => {
    const problems = ops.consoleOf.problems();
    ops.consoleOf.clear();
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await qstash?.close();
    await db?.drop();
  });
}
