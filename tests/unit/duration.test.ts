import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../lib/time/duration";

describe("durations", () => {
  it("count years only where a setting asks for them (QStash's headers take none)", () => {
    expect(parseDuration("1y", { years: true })).toBe(365 * 86_400_000);
    expect(parseDuration("1y2d", { years: true })).toBe(367 * 86_400_000);
    expect(parseDuration("1y")).toBeUndefined();
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
  });

  it("are written back in the largest whole units", () => {
    expect(formatDuration(7 * 86_400_000)).toBe("7d");
    expect(formatDuration(36 * 3_600_000)).toBe("1d12h");
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(1500)).toBe("1s500ms");
    expect(formatDuration(0)).toBe("0ms");
  });
});
