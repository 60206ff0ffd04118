import { describe, expect, it } from "vitest";
import { ConfigError, ProviderError, RetryAfterError } from "../../lib/errors";
import { processItems } from "../../lib/jobs/batch";
import { retryAfterSeconds } from "../../lib/providers/errors";

describe("processItems", () => {
  it("counts item failures and goes on; a rate limit stops new items and releases the rest", async () => {
    const started: number[] = [];
    const { results, stop } = await processItems(
      [1, 2, 3, 4, 5, 6],
      async (n) => {
        started.push(n);
        if (n === 2) throw new ProviderError("Vendor", "HTTP 500");
        if (n === 4) throw new RetryAfterError("slow down", 9);
        return n * 10;
      },
      { concurrency: 1 },
    );
    expect(started).toEqual([1, 2, 3, 4]);
    expect(results.map((r) => (r.ok ? "ok" : "released" in r ? "released" : "failed"))).toEqual(["ok", "failed", "ok", "released", "released", "released"]);
    expect(stop).toBeInstanceOf(RetryAfterError);
  });

  it("stops on a configuration error too, and never starts more than `concurrency` at once", async () => {
    let running = 0;
    let peak = 0;
    const { stop } = await processItems(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        if (i === 10) throw new ConfigError("KEY is not set");
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(stop).toBeInstanceOf(ConfigError);
  });
});

describe("retryAfterSeconds", () => {
  it("reads seconds or an HTTP date, and falls back when there is neither", () => {
    expect(retryAfterSeconds("7")).toBe(7);
    expect(retryAfterSeconds("0.2")).toBe(1);
    expect(retryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", 30, Date.parse("2026-10-21T07:28:00Z"))).toBe(30);
    expect(retryAfterSeconds(null)).toBe(30);
    expect(retryAfterSeconds("soon", 12)).toBe(12);
  });
});
