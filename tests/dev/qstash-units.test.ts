import { describe, expect, it } from "vitest";
import { ManualClock, scaledClock } from "../../dev/qstash/clock";
import { parseDuration, parseRetryAfter } from "../../dev/qstash/duration";
import { parseFlowControl } from "../../dev/qstash/flow-control";
import { compileRetryDelay, defaultBackoffMs } from "../../dev/qstash/retry-delay";

describe("retry delay expressions", () => {
  it.each([
    ["1000", 3, 1000],
    ["1000 * (1 + retried)", 2, 3000],
    ["pow(2, retried) * 1000", 3, 8000],
    ["max(10, pow(2, retried))", 2, 10],
    ["min(5000, 100 * exp(retried))", 1, 272],
    ["-retried * 10 + 100 / 4", 1, 15],
    ["floor(2.7) + ceil(2.1) + round(2.5) + abs(-1) + sqrt(16)", 0, 13],
    ["min(3, 2, 1) + max(1, 2, 3)", 0, 4],
    ["1e3", 0, undefined],
  ])("%s with retried=%i", (src, retried, want) => {
    if (want === undefined) expect(() => compileRetryDelay(src)).toThrow();
    else expect(compileRetryDelay(src)(retried)).toBe(want);
  });

  it("rejects anything outside the language, so nothing is ever evaluated as code", () => {
    expect(() => compileRetryDelay("process.exit(1)")).toThrow(/unexpected character "\."/);
    expect(() => compileRetryDelay("globalThis")).toThrow(/unknown name "globalThis"/);
    expect(() => compileRetryDelay("constructor")).toThrow(/unknown name/);
    expect(() => compileRetryDelay("pow(2)")).toThrow(/pow\(\) takes 2 argument/);
    expect(() => compileRetryDelay("(1 + 2")).toThrow(/expected "\)"/);
    expect(() => compileRetryDelay("1 +")).toThrow(/unexpected end/);
    expect(() => compileRetryDelay("1; 2")).toThrow(/unexpected character ";"/);
    expect(() => compileRetryDelay("")).toThrow(/empty/);
  });

  it("never answers a negative or non-finite delay", () => {
    expect(compileRetryDelay("0 - 5000")(0)).toBe(0);
    expect(compileRetryDelay("sqrt(0 - 1)")(0)).toBe(0);
    expect(compileRetryDelay("1 / 0")(0)).toBe(86_400_000);
  });

  it("default backoff is min(1 day, e^(2.5 n)) seconds", () => {
    expect([1, 2, 3, 4, 5, 6].map(defaultBackoffMs)).toEqual([12_182, 148_413, 1_808_042, 22_026_466, 86_400_000, 86_400_000]);
  });
});

describe("durations", () => {
  it("parses QStash and Go durations to ms", () => {
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("1d10h30m")).toBe(124_200_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("45")).toBe(45_000);
    expect(parseDuration("10 s")).toBeUndefined();
    expect(parseDuration("soon")).toBeUndefined();
    expect(parseDuration("5x")).toBeUndefined();
  });

  it("reads Retry-After as seconds, Go duration or HTTP date, capped at a day", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("2m", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:05:00 GMT", now)).toBe(300_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("9999999", now)).toBe(86_400_000);
    expect(parseRetryAfter("whenever", now)).toBeUndefined();
    expect(parseRetryAfter(String(now / 1000 + 60), now, "x-ratelimit-reset")).toBe(60_000);
  });

  it("parses flow-control values", () => {
    expect(parseFlowControl("k", "parallelism=5, rate=10, period=1m")).toEqual({ key: "k", parallelism: 5, rate: 10, period: 60 });
    expect(parseFlowControl("k", "rate=3")).toEqual({ key: "k", rate: 3, period: 1 });
    expect(() => parseFlowControl("k", "period=10s")).toThrow(/give parallelism and\/or rate/);
    expect(() => parseFlowControl("k", "parallelism=0")).toThrow(/parallelism must be a whole number >= 1/);
  });
});

describe("clocks", () => {
  it("a manual clock fires timers in time order, including ones armed on the way, and waits for their work", async () => {
    const clock = new ManualClock(1000);
    const seen: string[] = [];
    clock.setTimer(3000, () => seen.push(`b@${clock.now()}`));
    clock.setTimer(2000, async () => {
      seen.push(`a@${clock.now()}`);
      await new Promise((r) => setTimeout(r, 20));
      clock.setTimer(clock.now() + 500, () => seen.push(`a2@${clock.now()}`));
    });
    const never = clock.setTimer(2500, () => seen.push("cleared"));
    clock.clearTimer(never);
    clock.setTimer(10_000, () => seen.push("later"));
    await clock.advance(2000);
    expect(seen).toEqual(["a@2000", "a2@2500", "b@3000"]);
    expect(clock.now()).toBe(3000);
    expect(clock.pendingTimers).toBe(1);
  });

  it("a manual clock runs timers that are already due without being advanced", async () => {
    const clock = new ManualClock(5000);
    let ran = 0;
    clock.setTimer(4000, () => ran++);
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(1);
    expect(clock.now()).toBe(5000);
  });

  it("a scaled clock runs faster than the wall clock", async () => {
    const clock = scaledClock(1000, 0);
    const fired = await new Promise<number>((resolve) => clock.setTimer(30_000, () => resolve(clock.now())));
    expect(fired).toBeGreaterThanOrEqual(30_000);
    expect(fired).toBeLessThan(200_000);
    expect(clock.realMs(30_000)).toBe(30);
  });
});
