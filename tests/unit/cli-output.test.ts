import { describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { duration, parseWindow, percent, statsLine, when, zoneName } from "../../lib/cli/format";
import { memoryIo } from "../../lib/cli/io";
import { progress } from "../../lib/cli/progress";
import { fit, renderTable } from "../../lib/cli/table";

describe("CLI output helpers", () => {
  it("fits a table to the terminal width, wrapping long text at word boundaries", () => {
    const rows = [["cleanup-expired-reservations", "cron: */15 * * * * -> */10 * * * *, retries: 3 -> 5"]];
    const wide = renderTable(["schedule", "what"], rows);
    // Piped (no width): one line per row, nothing wrapped.
    expect(wide.split("\n")).toHaveLength(5);
    expect(wide).toContain(`│ ${rows[0]![1]} │`);
    const narrow = renderTable(["schedule", "what"], rows, 60);
    const lines = narrow.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    // The id is one word: it stays whole, the prose wraps.
    expect(narrow).toContain("│ cleanup-expired-reservations │");
    expect(lines.filter((l) => l.startsWith("│")).length).toBe(4);
  });

  it("shrinks the widest columns first, and cuts words only when nothing else fits", () => {
    expect(fit([10, 40, 20], 50, [10, 12, 20])).toEqual([10, 20, 20]);
    expect(fit([10, 40, 20], 30, [10, 12, 20])).toEqual([10, 10, 10]);
  });

  it("prints a job's stats as one line", () => {
    expect(statsLine({ sent: 8, failed: 0 })).toBe("sent 8, failed 0");
    expect(statsLine({ ids: [1, 2] })).toBe("ids [1,2]");
    expect(statsLine({})).toBe("no stats");
    expect(duration(950)).toBe("950 ms");
    expect(duration(1234)).toBe("1.2 s");
    expect(duration(125_000)).toBe("2m 5s");
    expect(percent(0.6667)).toBe("66.7%");
    expect(percent(1)).toBe("100%");
    expect(percent(null)).toBe("-");
  });

  it("reads --since windows", () => {
    expect(parseWindow("24h")).toBe(86_400_000);
    expect(parseWindow("90m")).toBe(5_400_000);
    expect(parseWindow("7d")).toBe(604_800_000);
    expect(parseWindow("yesterday")).toBeUndefined();
  });

  it("shows no progress bar when output is piped", () => {
    const io = memoryIo({ isTTY: false });
    const bar = progress(io, 500, "deleting");
    bar.tick("x");
    bar.stop();
    expect(io.stdout() + io.stderr()).toBe("");
  });
});

describe("zone names", () => {
  it("give the offset, then the abbreviation where the zone has one, in one style for every zone", () => {
    const at = (zone: string, iso = "2027-01-15T12:00") => zoneName(DateTime.fromISO(iso, { zone }));
    expect(at("America/New_York")).toBe("-05:00 EST");
    expect(at("America/New_York", "2027-07-15T12:00")).toBe("-04:00 EDT");
    expect(at("Europe/Berlin")).toBe("+01:00 CET");
    expect(at("Asia/Kolkata")).toBe("+05:30 IST");
    expect(at("Australia/Sydney")).toBe("+11:00 AEDT");
    expect(at("Europe/London", "2027-07-15T12:00")).toBe("+01:00 BST");
    expect(at("Asia/Tokyo")).toBe("+09:00");
    expect(at("UTC")).toBe("UTC");
    expect(when("2027-01-15T08:00:00Z", "Europe/Berlin")).toBe("2027-01-15 09:00 +01:00 CET");
  });
});
