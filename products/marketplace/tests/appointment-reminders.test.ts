import { describe, expect, it } from "vitest";
import job from "../jobs/appointment-reminders";
import { runJob } from "@/lib/jobs/run";
import { testDeps } from "../../../tests/support/app";
import { insertAppointment, insertClient, insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";
import { reminderSuite } from "./reminder-suite";

reminderSuite(job, { kind: "24h", cron: "0 9 * * *", base: "2032-02-01T09:00:00Z", windowMs: 24 * 3_600_000 });

describe("appointment-reminders across a DST change", () => {
  it("shows the time each recipient will live, after the clocks change overnight", async () => {
    // Saturday 09:00 UTC, Berlin still on CEST (+2); the appointment is on Sunday after the change to CET (+1).
    const now = new Date("2032-10-30T09:00:00Z");
    const deps = { ...testDeps([job], [], VENDOR_ENV), clock: () => now };
    const calls = vendors();
    const expert = await insertExpert({ time_zone: "Europe/Berlin", name: "Dr. Berlin" });
    const client = await insertClient({ time_zone: "America/New_York", name: "Casey" });
    const appt = await insertAppointment({ expert: expert.id, client: client.id, startsAt: new Date("2032-10-31T09:00:00Z"), minutes: 45 });
    expect(await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps)).toMatchObject({ status: "succeeded", stats: { sent: 2 } });

    const toExpert = calls.resend.find((c) => c.idempotencyKey === `reminder:24h:${appt}:expert`)!;
    // 10:00 CET, not 11:00 (what today's +2 offset would give).
    expect(toExpert.body.text).toContain("Sunday 31 October 2032 at 10:00 GMT+1 (Europe/Berlin), for 45 minutes");
    expect(toExpert.body.subject).toBe("Reminder: your appointment with Casey on Sun 31 Oct, 10:00 GMT+1");
    // New York changes a week later: still EDT (-4) here.
    const toClient = calls.resend.find((c) => c.idempotencyKey === `reminder:24h:${appt}:client`)!;
    expect(toClient.body.text).toContain("Sunday 31 October 2032 at 05:00 EDT (America/New_York)");
  });
});
