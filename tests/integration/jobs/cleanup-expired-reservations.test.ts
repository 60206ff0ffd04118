import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import job from "../../../jobs/marketplace/cleanup-expired-reservations";
import { runJob } from "../../../lib/jobs/run";
import { sql, testDeps } from "../../support/app";

describe("cleanup-expired-reservations", () => {
  it("releases unpaid holds past expiry, leaves the rest, and does nothing the second time", async () => {
    const expert = randomUUID();
    const now = new Date("2026-11-23T10:00:00Z");
    const row = (status: string, expiresAt: string) => ({
      expert_id: expert,
      client_id: randomUUID(),
      slot_start: "2026-11-24T10:00:00Z",
      slot_end: "2026-11-24T11:00:00Z",
      status,
      expires_at: expiresAt,
    });
    await sql()`insert into slot_reservations ${sql()([
      row("held", "2026-11-23T09:00:00Z"),
      row("held", "2026-11-23T09:59:59Z"),
      row("held", "2026-11-23T10:00:01Z"),
      row("paid", "2026-11-23T08:00:00Z"),
    ])}`;
    const deps = { ...testDeps([job]), clock: () => now };
    const first = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
    expect(first).toMatchObject({ status: "succeeded" });
    const states = await sql()<{ status: string; expires_at: Date }[]>`
      select status, expires_at from slot_reservations where expert_id = ${expert} order by expires_at`;
    expect(states.map((s) => s.status)).toEqual(["paid", "released", "released", "held"]);
    const second = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
    expect(second).toMatchObject({ status: "succeeded", stats: { released: 0 } });
    // Other tests share the table: this expert's two holds are what the first run released at least.
    if (first.status !== "succeeded") throw new Error("unreachable");
    expect(first.stats.released).toBeGreaterThanOrEqual(2);
  });
});
