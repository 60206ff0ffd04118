import { describe, expect, it } from "vitest";
import { catalog, loadAppEnv } from "../../config/app";
import { EnvError } from "../../lib/env";

/** A production env complete for the layer: only PRODUCTS and the products' own variables vary. */
const production = {
  APP_ENV: "production",
  APP_URL: "https://jobs.example.com",
  QSTASH_TOKEN: "token",
  QSTASH_CURRENT_SIGNING_KEY: "sig_current",
  QSTASH_NEXT_SIGNING_KEY: "sig_next",
  CRON_SECRET: "a-cron-secret-of-some-length",
  SCHEDULE_PREFIX: "prod",
  DATABASE_URL: "postgres://u@db.example.com:5432/app",
};

const problemsOf = (source: Record<string, string>): string[] => {
  try {
    loadAppEnv(source);
    return [];
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    return err.problems;
  }
};

describe("the products a deployment runs (PRODUCTS)", () => {
  it("is required in production, naming the products that exist", () => {
    const [problem] = problemsOf(production);
    expect(problem).toMatch(/^PRODUCTS is required in production/);
    for (const p of catalog) expect(problem).toContain(p.name);
  });

  it("is every product locally and in the tests when unset", () => {
    expect(loadAppEnv({ APP_ENV: "local" }).products.map((p) => p.name)).toEqual(catalog.map((p) => p.name));
  });

  it("refuses an unknown name with the list", () => {
    expect(problemsOf({ ...production, PRODUCTS: "forms,crm" })).toEqual([`PRODUCTS names "crm", which is not a product of this app: choose from ${catalog.map((p) => p.name).join(", ")}`]);
  });

  it("asks only the enabled products for their variables", () => {
    // Half of a Google OAuth client is a marketplace problem, and only the marketplace's.
    const broken = { ...production, GOOGLE_CLIENT_ID: "id-without-secret", TRANSFER_HOLD_DAYS: "many" };
    expect(loadAppEnv({ ...broken, PRODUCTS: "forms" }).products.map((p) => p.name)).toEqual(["forms"]);
    const problems = problemsOf({ ...broken, PRODUCTS: "forms,marketplace" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TRANSFER_HOLD_DAYS: .*\(product marketplace\)$/);
    // Fixed, the cross-field rule is the one left.
    expect(problemsOf({ ...broken, TRANSFER_HOLD_DAYS: "7", PRODUCTS: "marketplace" })).toEqual([expect.stringMatching(/^GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together.*\(product marketplace\)$/)]);
  });

  it("gives each product its settings from the same variables", () => {
    const { env, products } = loadAppEnv({ ...production, PRODUCTS: "marketplace", TRANSFER_HOLD_DAYS: "3" });
    expect(products[0]!.env!.of(env)).toMatchObject({ transferHoldDays: 3, minPayoutAmount: 5000, stripe: undefined });
  });
});
