import { afterAll, describe, expect, it } from "vitest";
import { createDeps } from "@/lib/deps";
import { loadEnv } from "@/lib/env";
import type { RunDeps } from "@/lib/jobs/run";
import { CRON_SECRET, testEnv } from "../../../tests/support/app";
import { testDatabaseUrl } from "../../../tests/support/db";
import { registryOf } from "../../../tests/support/registry";
import { LOCAL_CAMPAIGNS_API_KEY } from "../env";
import { campaignRoutes } from "../http/routes";
import campaignsProduct from "../index";

/**
 * The campaigns API's own key: its callers hold CAMPAIGNS_API_KEY, never CRON_SECRET. Each request
 * reads a malformed campaign id, which the API answers 400 after authentication and before the
 * database: 400 means the key got in, and a refusal means nothing was read.
 */
const KEY = "campaigns-api-key-under-test-0123456789";
const opened: RunDeps[] = [];
afterAll(async () => {
  await Promise.all(opened.map((d) => d.db.close()));
});

/** A production env complete for the layer (testEnv's values), with the campaigns API's settings varied. */
const production = (vars: Record<string, string | undefined>) => testEnv({ APP_ENV: "production", SCHEDULE_PREFIX: "prod", ...vars });

async function read(env: ReturnType<typeof testEnv>, auth: string | undefined) {
  const deps = createDeps(env, registryOf(campaignsProduct));
  opened.push(deps);
  const res = await campaignRoutes(async () => deps).get(
    new Request("https://jobs.example.test/api/campaigns/not-a-uuid", { headers: auth === undefined ? {} : { authorization: auth } }),
    { params: Promise.resolve({ id: "not-a-uuid" }) },
  );
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe("the campaigns API's key", () => {
  it("takes CAMPAIGNS_API_KEY and refuses CRON_SECRET by name (401), and a wrong or missing key", async () => {
    const env = testEnv({ CAMPAIGNS_API_KEY: KEY });
    expect(await read(env, `Bearer ${KEY}`)).toMatchObject({ status: 400 });
    expect(await read(env, `Bearer ${CRON_SECRET}`)).toEqual({ status: 401, error: "the campaigns API does not take CRON_SECRET (it can run every job): send Authorization: Bearer <CAMPAIGNS_API_KEY>" });
    expect(await read(env, "Bearer not-the-campaigns-key-0123")).toEqual({ status: 401, error: "missing or wrong Authorization: Bearer <CAMPAIGNS_API_KEY>" });
    expect(await read(env, undefined)).toMatchObject({ status: 401 });
  });

  it("in production: takes its key, and is closed (503 naming CAMPAIGNS_API_KEY) without it, with the public local value or equal to CRON_SECRET", async () => {
    expect(await read(production({ CAMPAIGNS_API_KEY: KEY }), `Bearer ${KEY}`)).toMatchObject({ status: 400 });
    const unset = await read(production({}), `Bearer ${CRON_SECRET}`);
    expect(unset.status).toBe(503);
    expect(unset.error).toMatch(/^the campaigns API is closed: CAMPAIGNS_API_KEY is not set/);
    const local = await read(production({ CAMPAIGNS_API_KEY: LOCAL_CAMPAIGNS_API_KEY }), `Bearer ${LOCAL_CAMPAIGNS_API_KEY}`);
    expect(local.status).toBe(503);
    expect(local.error).toMatch(/^the campaigns API is closed: CAMPAIGNS_API_KEY is the public local value/);
    const same = await read(production({ CAMPAIGNS_API_KEY: CRON_SECRET }), `Bearer ${CRON_SECRET}`);
    expect(same.status).toBe(503);
    expect(same.error).toMatch(/CAMPAIGNS_API_KEY equals CRON_SECRET/);
  });

  it("local mode takes the public local key when CAMPAIGNS_API_KEY is unset, never CRON_SECRET", async () => {
    const local = loadEnv({ APP_ENV: "local", DATABASE_URL: testDatabaseUrl() });
    expect(await read(local, `Bearer ${LOCAL_CAMPAIGNS_API_KEY}`)).toMatchObject({ status: 400 });
    expect(await read(local, `Bearer ${local.cronSecret}`)).toMatchObject({ status: 401 });
  });
});
