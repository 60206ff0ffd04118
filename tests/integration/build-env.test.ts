import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** A complete production env for Vercel, but for what each test takes out or breaks. */
const production: Record<string, string | undefined> = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NEXT_TELEMETRY_DISABLED: "1",
  VERCEL_ENV: "production",
  APP_URL: "https://jobs.example.com",
  QSTASH_TOKEN: "token",
  QSTASH_CURRENT_SIGNING_KEY: "sig_current",
  QSTASH_NEXT_SIGNING_KEY: "sig_next",
  CRON_SECRET: "0123456789abcdef0123",
  SCHEDULE_PREFIX: "prod",
  DATABASE_URL: "postgres://user@db.example.com/postgres",
  PRODUCTS: "forms",
};

function build(env: Record<string, string | undefined>) {
  const r = spawnSync("pnpm", ["exec", "next", "build"], { env: env as NodeJS.ProcessEnv, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("next build with a production env", () => {
  it("fails at config load and names the missing signing key", () => {
    const { status, out } = build({ ...production, QSTASH_CURRENT_SIGNING_KEY: undefined });
    expect(status).toBe(1);
    expect(out).toContain("Invalid configuration (1 problem)");
    expect(out).toContain("QSTASH_CURRENT_SIGNING_KEY is required in production");
  });

  it("reports one malformed value once, and the list once, when everything else is set", () => {
    // A layer variable: the build checks the layer's env and that PRODUCTS is set; the enabled
    // products' own variables are checked at boot (instrumentation.ts, config/app.ts loadAppEnv).
    const { status, out } = build({ ...production, LOG_LEVEL: "loud" });
    expect(status).toBe(1);
    expect(out.match(/Invalid configuration/g)).toHaveLength(1);
    expect(out).toContain("Invalid configuration (1 problem)");
    expect(out.match(/LOG_LEVEL/g)).toHaveLength(1);
    expect(out).not.toMatch(/is required in production/);
  });
});
