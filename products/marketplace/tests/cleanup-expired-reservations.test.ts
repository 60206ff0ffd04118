import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import job from "../jobs/cleanup-expired-reservations";
import { runJob } from "@/lib/jobs/run";
import { sql, testDeps } from "../../../tests/support/app";
import { at, days, hours, insertAppointment, insertClient, insertExpert } from "../../../tests/support/vendors";

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

  it("expires bookings left unpaid past their payment deadline and releases the slot each one held", async () => {
    const now = new Date("2034-05-01T10:00:00Z");
    const expert = await insertExpert();
    const client = await insertClient();
    const holdSlot = (startsAt: Date, expiresIn: number) =>
      sql()`insert into slot_reservations (expert_id, client_id, slot_start, slot_end, status, expires_at)
            values (${expert.id}, ${client.id}, ${startsAt}, ${at(startsAt, hours(1))}, 'held', ${at(now, expiresIn)})`;
    // Each booking's hold lasts far beyond now: only the booking's own deadline can free it.
    const booking = async (startsAt: Date, status: "pending_payment" | "confirmed", dueAt: Date | undefined, hold = true) => {
      const id = await insertAppointment({ expert: expert.id, client: client.id, startsAt, status, paymentDueAt: dueAt });
      if (hold) await holdSlot(startsAt, days(2));
      return id;
    };
    const slot = (n: number) => at(now, days(3) + hours(n));

    const lapsed = await booking(slot(0), "pending_payment", at(now, -hours(1)));
    const onTheDot = await booking(slot(1), "pending_payment", now);
    const open = await booking(slot(2), "pending_payment", at(now, hours(1)));
    const paid = await booking(slot(3), "confirmed", at(now, -hours(1)));
    const noDeadline = await booking(slot(4), "pending_payment", undefined);
    // The client let a booking lapse and booked the same slot again: the hold now serves the new one.
    const before = await booking(slot(5), "pending_payment", at(now, -hours(2)));
    const again = await booking(slot(5), "pending_payment", at(now, hours(2)), false);

    const deps = { ...testDeps([job]), clock: () => now };
    const first = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
    expect(first).toMatchObject({ status: "succeeded", stats: { expired: 3 } });

    const status = async (id: string) => (await sql()<{ status: string }[]>`select status from appointments where id = ${id}`)[0]!.status;
    expect({ lapsed: await status(lapsed), onTheDot: await status(onTheDot), before: await status(before) }).toEqual({ lapsed: "expired", onTheDot: "expired", before: "expired" });
    expect({ open: await status(open), paid: await status(paid), noDeadline: await status(noDeadline), again: await status(again) }).toEqual({
      open: "pending_payment",
      paid: "confirmed",
      noDeadline: "pending_payment",
      again: "pending_payment",
    });
    const holds = await sql()<{ slot_start: Date; status: string; released_at: Date | null }[]>`
      select slot_start, status, released_at from slot_reservations where expert_id = ${expert.id} order by slot_start`;
    expect(holds.map((h) => [h.slot_start.toISOString(), h.status, h.released_at?.toISOString() ?? null])).toEqual([
      [slot(0).toISOString(), "released", now.toISOString()],
      [slot(1).toISOString(), "released", now.toISOString()],
      [slot(2).toISOString(), "held", null],
      [slot(3).toISOString(), "held", null],
      [slot(4).toISOString(), "held", null],
      [slot(5).toISOString(), "held", null],
    ]);

    const second = await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
    expect(second).toMatchObject({ status: "succeeded", stats: { expired: 0, released: 0 } });
  });
});
