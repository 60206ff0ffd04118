import { describe, expect, it } from "vitest";
import { loadAppEnv } from "../../config/app";
import { EnvError, loadEnv, LOCAL_QSTASH } from "../../lib/env";

const prod = {
  VERCEL_ENV: "production",
  APP_URL: "https://jobs.example.com/",
  QSTASH_TOKEN: "tok",
  QSTASH_CURRENT_SIGNING_KEY: "sig_cur",
  QSTASH_NEXT_SIGNING_KEY: "sig_next",
  CRON_SECRET: "0123456789abcdef0123",
  SCHEDULE_PREFIX: "prod",
  SUPABASE_URL: "https://abc.supabase.co",
  SUPABASE_SERVICE_ROLE_KEY: "service-role",
};

const problems = (source: Record<string, string | undefined>) => {
  try {
    loadEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).problems;
  }
  throw new Error("expected loadEnv to fail");
};

const appProblems = (source: Record<string, string | undefined>) => {
  try {
    loadAppEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).problems;
  }
  throw new Error("expected loadAppEnv to fail");
};

describe("env", () => {
  it("accepts a complete production env and normalizes it", () => {
    const env = loadEnv(prod);
    expect(env.mode).toBe("production");
    expect(env.appUrl).toBe("https://jobs.example.com");
    expect(env.qstash.url).toBe("https://qstash.upstash.io");
    expect(env.database).toEqual({ kind: "supabase", url: "https://abc.supabase.co", serviceRoleKey: "service-role" });
    expect(env.redis).toBeUndefined();
  });

  it("lists every missing production value in one error, with how to fix it", () => {
    const err = (() => {
      try {
        loadEnv({ VERCEL_ENV: "production" });
      } catch (e) {
        return e as EnvError;
      }
    })()!;
    expect(err.problems.map((p) => p.split(" ")[0])).toEqual([
      "APP_URL",
      "QSTASH_TOKEN",
      "QSTASH_CURRENT_SIGNING_KEY",
      "QSTASH_NEXT_SIGNING_KEY",
      "CRON_SECRET",
      "SCHEDULE_PREFIX",
      "DATABASE",
    ]);
    expect(err.message).toMatch(/^Invalid configuration \(7 problems\):/);
    expect(err.message).toMatch(/QSTASH_CURRENT_SIGNING_KEY is required in production: Upstash console -> QStash -> Signing keys \(current\)/);
  });

  it("names a single missing signing key", () => {
    expect(problems({ ...prod, QSTASH_CURRENT_SIGNING_KEY: "" })).toEqual([
      "QSTASH_CURRENT_SIGNING_KEY is required in production: Upstash console -> QStash -> Signing keys (current)",
    ]);
  });

  it("refuses a CRON_SECRET shorter than 16 characters, in every mode", () => {
    expect(problems({ ...prod, CRON_SECRET: "short" })[0]).toMatch(/^CRON_SECRET: must be at least 16 characters/);
    expect(problems({ CRON_SECRET: "short" })[0]).toMatch(/^CRON_SECRET/);
  });

  it("refuses a plain-http APP_URL in production and half a Redis config", () => {
    expect(problems({ ...prod, APP_URL: "http://jobs.example.com" })).toEqual([expect.stringMatching(/APP_URL must be https/)]);
    expect(problems({ ...prod, UPSTASH_REDIS_REST_URL: "https://r.upstash.io" })).toEqual([expect.stringMatching(/go together/)]);
  });

  it("fills the local stack's public defaults only when local mode is asked for", () => {
    const env = loadEnv({ APP_ENV: "local" });
    expect(env.mode).toBe("local");
    expect(env.appUrl).toBe("http://localhost:3000");
    expect(env.qstash).toEqual({ ...LOCAL_QSTASH, maxDelayMs: 7 * 86_400_000 });
    expect(env.cronSecret).toHaveLength(36);
    expect(env.database.kind).toBe("postgres");
  });

  it("leaves CRON_SECRET unset in test mode, so Bearer is refused rather than defaulted", () => {
    expect(loadEnv({ APP_ENV: "test" }).cronSecret).toBeUndefined();
  });

  it("takes APP_URL from Vercel's production URL when not set", () => {
    const { APP_URL: _, ...rest } = prod;
    expect(loadEnv({ ...rest, VERCEL_PROJECT_PRODUCTION_URL: "jobs.example.com" }).appUrl).toBe("https://jobs.example.com");
  });

  it("is production without APP_ENV, wherever it runs: the local keys and secret are never filled in", () => {
    for (const source of [{}, { NODE_ENV: "production" }, { APP_URL: "https://jobs.example.com" }, { NODE_ENV: "development", APP_URL: "http://localhost:3000" }]) {
      const list = problems(source);
      expect(list).toEqual(expect.arrayContaining([expect.stringMatching(/^QSTASH_CURRENT_SIGNING_KEY is required in production/), expect.stringMatching(/^CRON_SECRET is required in production/)]));
    }
  });

  it("says how to run locally when the env does not say which deployment it is", () => {
    expect(() => loadEnv({ NODE_ENV: "production" })).toThrow(/Without APP_ENV this is a production server.*APP_ENV=local/s);
    expect(() => loadEnv({ VERCEL_ENV: "production" })).not.toThrow(/Without APP_ENV/);
  });

  it("refuses an unknown mode, and local mode on a URL other machines can reach", () => {
    expect(problems({ APP_ENV: "staging" })[0]).toMatch(/^APP_ENV: /);
    expect(problems({ APP_ENV: "local", APP_URL: "https://jobs.example.com" })).toEqual([expect.stringMatching(/^APP_ENV=local serves only this machine/)]);
    expect(loadEnv({ APP_ENV: "local", APP_URL: "http://127.0.0.1:3001" }).cronSecret).toBe(loadEnv({ APP_ENV: "local" }).cronSecret);
  });

  it("refuses test mode on a URL the public can reach, or on a Vercel deployment: it would accept the public local keys", () => {
    for (const url of ["https://jobs.acme.io", "https://cronlayer.vercel.app", "http://203.0.113.7:3000"]) {
      expect(problems({ APP_ENV: "test", APP_URL: url }), url).toEqual([expect.stringMatching(/^APP_ENV=test uses the public local signing keys and unsubscribe secret, so it never serves a public URL/)]);
    }
    expect(problems({ APP_ENV: "test", VERCEL_PROJECT_PRODUCTION_URL: "cronlayer.vercel.app" })).toEqual([expect.stringMatching(/^APP_ENV=test .*APP_URL is https:\/\/cronlayer\.vercel\.app/)]);
    expect(problems({ APP_ENV: "test", VERCEL_ENV: "preview", APP_URL: "http://localhost:3000" })).toEqual([expect.stringMatching(/^APP_ENV=test uses public keys and secrets, but VERCEL_ENV=preview/)]);
    expect(problems({ APP_ENV: "local", VERCEL_ENV: "production" })).toEqual([expect.stringMatching(/^APP_ENV=local uses public keys and secrets, but VERCEL_ENV=production/)]);
    // What the tests use: this machine, a private network, names reserved for tests and documentation.
    for (const url of ["http://127.0.0.1:3001", "http://localhost:3000", "https://10.1.2.3", "https://printer.local", "https://jobs.example.test", "https://jobs.example.com", "https://a.example", "https://x.invalid"]) {
      expect(loadEnv({ APP_ENV: "test", APP_URL: url }).mode, url).toBe("test");
    }
  });

  it("reports one malformed value once, and nothing about the values that are set", () => {
    // A product's variable is the composed env's (config/app.ts): reported once, for the product that reads it.
    expect(appProblems({ ...prod, PRODUCTS: "marketplace", TRANSFER_HOLD_DAYS: "abc" })).toEqual([expect.stringMatching(/^TRANSFER_HOLD_DAYS: .*\(product marketplace\)$/)]);
    expect(problems({ ...prod, CRON_SECRET: "short" })).toEqual([expect.stringMatching(/^CRON_SECRET: must be at least 16 characters/)]);
    expect(problems({ ...prod, SUPABASE_URL: undefined, SUPABASE_SERVICE_ROLE_KEY: undefined, DATABASE_URL: "mysql://x" })).toEqual([
      expect.stringMatching(/^DATABASE_URL: must be a postgres:\/\/ URL/),
    ]);
  });

  it("reads QSTASH_MAX_DELAY as a duration (default 7 days, the free plan's), and refuses anything else at startup", () => {
    expect(loadEnv(prod).qstash.maxDelayMs).toBe(7 * 86_400_000);
    expect(loadEnv({ ...prod, QSTASH_MAX_DELAY: "1y" }).qstash.maxDelayMs).toBe(365 * 86_400_000);
    expect(loadEnv({ ...prod, QSTASH_MAX_DELAY: "30m" }).qstash.maxDelayMs).toBe(30 * 60_000);
    expect(loadEnv({ ...prod, QSTASH_MAX_DELAY: " 6d12h " }).qstash.maxDelayMs).toBe(6.5 * 86_400_000);
    expect(loadEnv({ ...prod, QSTASH_MAX_DELAY: "" }).qstash.maxDelayMs).toBe(7 * 86_400_000);
    for (const bad of ["7 days", "week", "7", "-1d", "1w"]) {
      expect(problems({ ...prod, QSTASH_MAX_DELAY: bad }), bad).toEqual([`QSTASH_MAX_DELAY: must be a duration such as 7d, 1y or 30m (units s, m, h, d, y), got "${bad}"`]);
    }
    expect(problems({ ...prod, QSTASH_MAX_DELAY: "5m" })).toEqual(['QSTASH_MAX_DELAY: must be at least 10m, got "5m"']);
    expect(() => loadEnv({ ...prod, QSTASH_MAX_DELAY: "0d" })).toThrow(/QSTASH_MAX_DELAY: must be at least 10m/);
  });

  it("names the variables of its problems without their hints or values", () => {
    try {
      loadEnv({ NODE_ENV: "production", APP_URL: "https://jobs.example.com" });
    } catch (err) {
      expect((err as EnvError).variables).toEqual(["QSTASH_TOKEN", "QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "CRON_SECRET", "SCHEDULE_PREFIX", "DATABASE_URL or SUPABASE_URL"]);
      return;
    }
    throw new Error("expected loadEnv to fail");
  });
});
