import { describe, expect, it } from "vitest";
import { signDelivery } from "../../dev/qstash/sign";
import { verifySignature } from "../../lib/auth/signature";
import { EnvError, loadEnv, LOCAL_QSTASH } from "../../lib/env";

/** The runner in a container (APP_ENV=production, CRONLAYER_FANOUT=inline): no QStash, no routes. */
const runner = {
  APP_ENV: "production",
  CRONLAYER_FANOUT: "inline",
  APP_URL: "https://learn.example.com",
  DATABASE_URL: "postgres://jobs@db.internal:5432/app",
};

const problemsOf = (source: Record<string, string>) => {
  try {
    loadEnv(source);
    return [];
  } catch (err) {
    return (err as EnvError).problems;
  }
};

describe("env of an inline runner (CRONLAYER_FANOUT=inline)", () => {
  it("needs no QStash keys, cron secret or schedule prefix; APP_URL and the database still", () => {
    expect(problemsOf(runner)).toEqual([]);
    expect(problemsOf({ ...runner, CRONLAYER_FANOUT: "qstash" })).toEqual([
      expect.stringMatching(/^QSTASH_TOKEN is required/),
      expect.stringMatching(/^QSTASH_CURRENT_SIGNING_KEY is required/),
      expect.stringMatching(/^QSTASH_NEXT_SIGNING_KEY is required/),
      expect.stringMatching(/^CRON_SECRET is required/),
      expect.stringMatching(/^SCHEDULE_PREFIX is required/),
    ]);
    const { APP_URL: _, DATABASE_URL: __, ...bare } = runner;
    expect(problemsOf(bare)).toEqual([expect.stringMatching(/^APP_URL is required/), expect.stringMatching(/^DATABASE_URL or SUPABASE_URL|^DATABASE is required/)]);
  });

  it("never falls back to the public local signing keys or token: a request signed with them does not verify", async () => {
    const env = loadEnv(runner);
    expect(env.cronSecret).toBeUndefined();
    expect(env.qstash.token).toBe("");
    expect([env.qstash.currentSigningKey, env.qstash.nextSigningKey]).not.toContain(LOCAL_QSTASH.currentSigningKey);
    expect([env.qstash.currentSigningKey, env.qstash.nextSigningKey]).not.toContain(LOCAL_QSTASH.nextSigningKey);
    const url = `${env.appUrl}/api/jobs/send-founder-email`;
    for (const key of [LOCAL_QSTASH.currentSigningKey, LOCAL_QSTASH.nextSigningKey]) {
      const check = await verifySignature(env.qstash, signDelivery({ url, body: "{}", key }), "{}", url);
      expect(check.ok).toBe(false);
    }
  });

  it("is refused on Vercel, where the fan-out goes through QStash", () => {
    expect(problemsOf({ ...runner, APP_ENV: "", VERCEL_ENV: "production" })).toContainEqual(expect.stringMatching(/^CRONLAYER_FANOUT=inline is for the runner in a container/));
  });
});
