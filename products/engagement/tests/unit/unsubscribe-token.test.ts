import { describe, expect, it } from "vitest";
import type { Env, Mode } from "@/lib/env";
import { unsubscribeToken, unsubscribeUrl, verifyUnsubscribeToken } from "../../lib/unsubscribe-token";

const SECRET = "a-secret-of-at-least-thirty-two-characters";
const ID = "2b1f0a6e-9d43-4c1e-8a55-3f0c1d2e4b6a";

describe("unsubscribe tokens", () => {
  it("round-trips the learner id and is stable (an old email's link keeps working)", () => {
    const t = unsubscribeToken(SECRET, ID);
    expect(t).toMatch(/^2b1f0a6e-9d43-4c1e-8a55-3f0c1d2e4b6a\.[A-Za-z0-9_-]{43}$/);
    expect(unsubscribeToken(SECRET, ID)).toBe(t);
    expect(verifyUnsubscribeToken(SECRET, t)).toBe(ID);
  });

  it("refuses tampered, foreign and malformed tokens", () => {
    const t = unsubscribeToken(SECRET, ID);
    const other = "2b1f0a6e-9d43-4c1e-8a55-3f0c1d2e4b6b";
    expect(verifyUnsubscribeToken(SECRET, `${other}${t.slice(ID.length)}`)).toBeUndefined();
    expect(verifyUnsubscribeToken("another-secret-of-at-least-thirty-two-chars", t)).toBeUndefined();
    for (const bad of [null, "", ".", ID, `${ID}.`, `${ID}.${"A".repeat(43)}`, "x".repeat(500)]) expect(verifyUnsubscribeToken(SECRET, bad)).toBeUndefined();
  });

  it("refuses to sign anything but a learner id", () => {
    expect(() => unsubscribeToken(SECRET, "not-a-uuid")).toThrow(/learnerId must be a lowercase uuid/);
  });

  it("builds the link on the app's URL; without a secret it fails closed naming the variable", () => {
    // Only what the link reads of the env: the app's URL, and the product's variables from the source.
    const env = (mode: Mode, source: Record<string, string>) => ({ appUrl: "https://learn.example.test", mode, source }) as Pick<Env, "appUrl" | "mode" | "source"> as Env;
    expect(unsubscribeUrl(env("production", { UNSUBSCRIBE_SECRET: SECRET }), ID)).toBe(`https://learn.example.test/api/engagement/unsubscribe?token=${encodeURIComponent(unsubscribeToken(SECRET, ID))}`);
    expect(() => unsubscribeUrl(env("production", {}), ID)).toThrow(/^UNSUBSCRIBE_SECRET is not set/);
  });
});
