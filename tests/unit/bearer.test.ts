import { describe, expect, it } from "vitest";
import { bearerMatches } from "../../lib/auth/bearer";
import { toHttpFailure, NonRetryableError, RetryAfterError, ConfigError, TimeoutError } from "../../lib/errors";

describe("bearer", () => {
  it("matches only the exact secret", () => {
    expect(bearerMatches("Bearer 0123456789abcdef", "0123456789abcdef")).toBe(true);
    expect(bearerMatches("Bearer 0123456789abcdeF", "0123456789abcdef")).toBe(false);
    expect(bearerMatches("bearer 0123456789abcdef", "0123456789abcdef")).toBe(false);
    expect(bearerMatches("Bearer 0123456789abcdef ", "0123456789abcdef")).toBe(false);
    expect(bearerMatches("0123456789abcdef", "0123456789abcdef")).toBe(false);
  });
  it("never matches when the secret is unset", () => {
    for (const h of ["Bearer undefined", "Bearer ", "Bearer", null]) expect(bearerMatches(h, undefined)).toBe(false);
    expect(bearerMatches("Bearer ", "")).toBe(false);
  });
});

describe("error mapping", () => {
  it("maps each error to QStash's semantics", () => {
    expect(toHttpFailure(new NonRetryableError("x"))).toMatchObject({ status: 489, headers: { "Upstash-NonRetryable-Error": "true" } });
    expect(toHttpFailure(new ConfigError("RESEND_API_KEY is missing"))).toMatchObject({ status: 489, body: { name: "ConfigError" } });
    expect(toHttpFailure(new RetryAfterError("slow down", 0.2))).toMatchObject({ status: 429, headers: { "Retry-After": "1" } });
    expect(toHttpFailure(new TimeoutError(5))).toMatchObject({ status: 500, body: { name: "TimeoutError" } });
    expect(toHttpFailure("a string")).toMatchObject({ status: 500, body: { error: "a string" } });
  });
});
