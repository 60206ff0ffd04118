import { describe, expect, it } from "vitest";
import { createLogger, type Level } from "../../lib/log";

const capture = (format: "json" | "pretty") => {
  const lines: [string, Level][] = [];
  const log = createLogger("info", {}, (line, level) => lines.push([line, level]), format).child({ job: "heartbeat", trigger: "qstash", retried: 0, runId: "r-1" });
  return { log, lines };
};

describe("logs", () => {
  it("are one JSON object per line by default, with the scope, for log drains", () => {
    const { log, lines } = capture("json");
    log.info("job.run.succeeded", { durationMs: 12, stats: { ok: true } });
    expect(JSON.parse(lines[0]![0])).toMatchObject({ level: "info", event: "job.run.succeeded", job: "heartbeat", runId: "r-1", durationMs: 12, stats: { ok: true } });
  });

  it("are one short line per run in a terminal: job, outcome, duration, stats or error; the start says nothing", () => {
    const { log, lines } = capture("pretty");
    log.info("job.run.started", { slotAt: "2026-12-01T00:03:00.000Z" });
    log.info("job.run.succeeded", { durationMs: 202, stats: { ok: true, slot: "2026-12-01T00:03:00.000Z" } });
    log.error("job.run.failed", { durationMs: 31, error: { name: "ProviderError", message: "Resend: HTTP 500" } });
    log.warn("job.retry_run.failed", { at: "2026-12-01T01:00:00.000Z", error: { message: "x".repeat(300) } });
    const text = lines.map(([l]) => l.replace(/^\d\d:\d\d:\d\d /, ""));
    expect(text.slice(0, 2)).toEqual(["heartbeat succeeded in 202 ms: ok true, slot 2026-12-01T00:03:00.000Z", "heartbeat failed in 31 ms: ProviderError: Resend: HTTP 500"]);
    expect(text[2]).toMatch(/^warn job\.retry_run\.failed job=heartbeat trigger=qstash/);
    expect(lines.every(([l]) => l.length <= 160)).toBe(true);
    expect(lines.map(([, level]) => level)).toEqual(["info", "error", "warn"]);
  });

  it("never throw on fields JSON cannot write: a cycle and a bigint are written as text, shared objects in full", () => {
    for (const format of ["json", "pretty"] as const) {
      const { log, lines } = capture(format);
      const error: Record<string, unknown> = { name: "DbError", message: "down" };
      error.cause = { error };
      const shared = { id: 7 };
      expect(() => log.error("db.call_failed", { error, count: 12n, a: shared, b: shared })).not.toThrow();
      expect(lines).toHaveLength(1);
      if (format === "json") {
        expect(JSON.parse(lines[0]![0])).toMatchObject({ error: { name: "DbError", message: "down", cause: { error: "[Circular]" } }, count: "12", a: { id: 7 }, b: { id: 7 } });
      } else {
        expect(lines[0]![0]).toContain(`error={"name":"DbError","message":"down","cause":{"error":"[Circular]"}} count`);
      }
    }
  });
});
