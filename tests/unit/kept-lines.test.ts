import { describe, expect, it } from "vitest";
import { KEPT, keepLines, keptPayload } from "../../lib/jobs/kept-lines";
import { createLogger, type Level } from "../../lib/log";

/** The lines a run keeps for its page: what the close records, beside what goes to stdout. */
function kept() {
  const out: { line: string; level: Level }[] = [];
  const k = keepLines(createLogger("debug", { job: "j" }, (line, level) => out.push({ line, level })));
  return { k, out };
}

describe("kept lines", () => {
  it("keeps nothing for a run that succeeds without a warning, and still writes every line to the sink", () => {
    const { k, out } = kept();
    k.log.info("job.run.started");
    k.log.child({ step: 1 }).info("effects.page", { settled: 3 });
    k.log.debug("noise");
    expect(k.lines(false)).toBeNull();
    expect(out.map((o) => JSON.parse(o.line).event)).toEqual(["job.run.started", "effects.page", "noise"]);
  });

  it("keeps warnings and errors of a run that succeeds, with their fields as JSON", () => {
    const { k } = kept();
    k.log.info("job.run.started");
    k.log.child({ step: 1 }).warn("effect.failed", { key: "k:1", status: 503 });
    expect(k.lines(false)).toEqual([{ at: expect.any(String), level: "warn", event: "effect.failed", fields: '{"key":"k:1","status":503}' }]);
  });

  it("keeps a failed run's last lines too, in order, each once, without debug lines", () => {
    const { k } = kept();
    for (let i = 0; i < KEPT.TAIL + 5; i++) k.log.info(`step.${i}`);
    k.log.warn("slow");
    k.log.debug("noise");
    k.log.error("job.run.failed", { error: "boom" });
    const lines = k.lines(true)!;
    expect(lines.map((l) => l.event)).toEqual([...Array.from({ length: KEPT.TAIL - 2 }, (_, i) => `step.${i + 7}`), "slow", "job.run.failed"]);
    expect(lines.map((l) => l.at)).toEqual([...lines.map((l) => l.at)].sort());
  });

  it("caps the lines and their size, newest kept, and says how many it lost", () => {
    const { k } = kept();
    for (let i = 0; i < KEPT.MAX_LINES + 10; i++) k.log.warn(`w.${i}`, { text: "x".repeat(KEPT.FIELD_CHARS * 2) });
    const lines = k.lines(false)!;
    expect(lines[0]).toMatchObject({ level: "warn", event: "log.lines_not_kept" });
    const lost = JSON.parse(lines[0]!.fields!).lines as number;
    expect(lost + lines.length - 1).toBe(KEPT.MAX_LINES + 10);
    expect(lines.length - 1).toBeLessThanOrEqual(KEPT.MAX_LINES);
    expect(lines.slice(1).every((l) => l.fields!.length === KEPT.FIELD_CHARS && l.fields!.endsWith("…"))).toBe(true);
    expect(JSON.stringify(lines).length).toBeLessThan(KEPT.MAX_CHARS + 4_000);
    // The newest warning kept is the last one made before the cap dropped the rest.
    expect(lines.at(-1)!.event).toBe(`w.${KEPT.MAX_LINES - 1}`);
  });

  it("writes fields that cannot be JSON as a note, not an exception", () => {
    // A sink that does not write JSON itself (the app's logger would refuse such fields first).
    const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
    const k = keepLines(quiet);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    k.log.warn("odd", { loop, big: 10n });
    expect(k.lines(false)).toEqual([{ at: expect.any(String), level: "warn", event: "odd", fields: "(fields not serialisable)" }]);
  });
});

describe("kept payload", () => {
  it("keeps a payload up to 8 KB of JSON, else a note of its size", () => {
    expect(keptPayload({ id: 1 })).toEqual({ id: 1 });
    expect(keptPayload(undefined)).toBeNull();
    expect(keptPayload({ text: "x".repeat(9000) })).toEqual({ not_kept: expect.stringMatching(/^the payload is 9\d{3} characters/) });
    expect(keptPayload({ n: 1n })).toEqual({ not_kept: "the payload is not JSON" });
  });
});
