import { afterAll, describe, expect, it } from "vitest";
import { createDeps } from "@/lib/deps";
import { loadEnv } from "@/lib/env";
import type { RunDeps } from "@/lib/jobs/run";
import { CRON_SECRET, testEnv } from "../../../tests/support/app";
import { testDatabaseUrl } from "../../../tests/support/db";
import { registryOf } from "../../../tests/support/registry";
import { LOCAL_FORMS_API_KEY } from "../env";
import { formsRoutes } from "../http/routes";
import formsProduct from "../index";

/**
 * The forms API's own key: the clinic's app holds FORMS_API_KEY, never CRON_SECRET. Each request
 * reads a malformed id, which the API answers 400 after authentication and before the database:
 * 400 means the key got in, and a refusal means nothing was read.
 */
const KEY = "forms-api-key-under-test-0123456789";
const opened: RunDeps[] = [];
afterAll(async () => {
  await Promise.all(opened.map((d) => d.db.close()));
});

/** A production env complete for the layer (testEnv's values), with the forms API's settings varied. */
const production = (vars: Record<string, string | undefined>) => testEnv({ APP_ENV: "production", SCHEDULE_PREFIX: "prod", ...vars });

async function read(env: ReturnType<typeof testEnv>, auth: string | undefined) {
  const deps = createDeps(env, registryOf(formsProduct));
  opened.push(deps);
  const res = await formsRoutes(async () => deps).get(
    new Request("https://jobs.example.test/api/forms/not-a-uuid", { headers: auth === undefined ? {} : { authorization: auth } }),
    { params: Promise.resolve({ id: "not-a-uuid" }) },
  );
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe("the forms API's key", () => {
  it("takes FORMS_API_KEY and refuses CRON_SECRET by name (401), and a wrong or missing key", async () => {
    const env = testEnv({ FORMS_API_KEY: KEY });
    expect(await read(env, `Bearer ${KEY}`)).toMatchObject({ status: 400 });
    expect(await read(env, `Bearer ${CRON_SECRET}`)).toEqual({ status: 401, error: "the forms API does not take CRON_SECRET (it can run every job): send Authorization: Bearer <FORMS_API_KEY>" });
    expect(await read(env, "Bearer not-the-forms-key-0123456789")).toEqual({ status: 401, error: "missing or wrong Authorization: Bearer <FORMS_API_KEY>" });
    expect(await read(env, undefined)).toMatchObject({ status: 401 });
  });

  it("in production: takes its key, and is closed (503 naming FORMS_API_KEY) without it or with the public local value", async () => {
    expect(await read(production({ FORMS_API_KEY: KEY }), `Bearer ${KEY}`)).toMatchObject({ status: 400 });
    expect(await read(production({ FORMS_API_KEY: KEY }), `Bearer ${CRON_SECRET}`)).toMatchObject({ status: 401 });

    const unset = await read(production({}), `Bearer ${CRON_SECRET}`);
    expect(unset.status).toBe(503);
    expect(unset.error).toMatch(/^the forms API is closed: FORMS_API_KEY is not set/);
    const local = await read(production({ FORMS_API_KEY: LOCAL_FORMS_API_KEY }), `Bearer ${LOCAL_FORMS_API_KEY}`);
    expect(local.status).toBe(503);
    expect(local.error).toMatch(/^the forms API is closed: FORMS_API_KEY is the public local value/);
  });

  it("is closed when FORMS_API_KEY equals CRON_SECRET, which would let the job secret in", async () => {
    const same = await read(production({ FORMS_API_KEY: CRON_SECRET }), `Bearer ${CRON_SECRET}`);
    expect(same.status).toBe(503);
    expect(same.error).toMatch(/FORMS_API_KEY equals CRON_SECRET/);
  });

  it("local mode takes the public local key when FORMS_API_KEY is unset, never CRON_SECRET", async () => {
    const local = loadEnv({ APP_ENV: "local", DATABASE_URL: testDatabaseUrl() });
    expect(await read(local, `Bearer ${LOCAL_FORMS_API_KEY}`)).toMatchObject({ status: 400 });
    expect(await read(local, `Bearer ${local.cronSecret}`)).toMatchObject({ status: 401 });
  });

  it("a malformed key is a configuration problem naming it", () => {
    expect(formsProduct.envProblems(testEnv({ FORMS_API_KEY: "short" }))).toEqual(["FORMS_API_KEY: must be at least 16 characters (generate one: openssl rand -hex 32)"]);
  });
});
