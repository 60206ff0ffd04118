import { describe, expect, it } from "vitest";
import { decide } from "../../lib/jobs/catch-up";

const H = 3_600_000;
const now = new Date("2027-01-10T12:00:00Z");
const ago = (h: number) => new Date(now.getTime() - h * H);
const decisions = (catchUp: { windowMs: number; each: boolean }, unseen: Date[]) => decide({ job: "j", catchUp }, unseen, now).map((d) => [d.slot.toISOString(), d.decision]);

describe("what the watchdog does with the slots no delivery reached", () => {
  const unseen = [ago(30), ago(5), ago(3), ago(1)];

  it("runs the latest slot within the window of a sweep, which covers the older ones; older than the window is missed", () => {
    expect(decisions({ windowMs: 6 * H, each: false }, unseen)).toEqual([
      [ago(30).toISOString(), "missed"],
      [ago(5).toISOString(), "covered"],
      [ago(3).toISOString(), "covered"],
      [ago(1).toISOString(), "catch-up"],
    ]);
  });

  it("runs every slot within the window of a per-slot job (a report of a day)", () => {
    expect(decisions({ windowMs: 4 * H, each: true }, unseen)).toEqual([
      [ago(30).toISOString(), "missed"],
      [ago(5).toISOString(), "missed"],
      [ago(3).toISOString(), "catch-up"],
      [ago(1).toISOString(), "catch-up"],
    ]);
  });

  it("runs nothing with catch-up off", () => {
    expect(decisions({ windowMs: 0, each: true }, unseen).map(([, d]) => d)).toEqual(["missed", "missed", "missed", "missed"]);
  });

  it("counts a slot exactly at the window's edge as within it", () => {
    expect(decisions({ windowMs: 5 * H, each: false }, [ago(5)])).toEqual([[ago(5).toISOString(), "catch-up"]]);
  });
});
