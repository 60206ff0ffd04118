import { describe, expect, it } from "vitest";
import job from "../jobs/appointment-reminders-1hr";
import { runJob } from "@/lib/jobs/run";
import { testDeps } from "../../../tests/support/app";
import { insertAppointment, insertClient, insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";
import { reminderSuite } from "./reminder-suite";

reminderSuite(job, { kind: "1h", cron: "*/15 * * * *", base: "2032-03-01T12:00:00Z", windowMs: 3_600_000 });

describe("appointment-reminders-1hr across a DST change", () => {
  it("shows the local time after the clocks went back inside the hour", async () => {
    // New York, first Sunday of November 2032: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
    const now = new Date("2032-11-07T05:30:00Z"); // 01:30 EDT
    const deps = { ...testDeps([job], [], VENDOR_ENV), clock: () => now };
    const calls = vendors();
    const expert = await insertExpert({ time_zone: "Asia/Kolkata" });
    const client = await insertClient({ time_zone: "America/New_York" });
    const appt = await insertAppointment({ expert: expert.id, client: client.id, startsAt: new Date("2032-11-07T06:15:00Z") });
    expect(await runJob({ job: job.name, payload: {}, trigger: "cli" }, deps)).toMatchObject({ status: "succeeded", stats: { sent: 2 } });
    const toClient = calls.resend.find((c) => c.idempotencyKey === `reminder:1h:${appt}:client`)!;
    // 01:15 EST, the second 01:xx of the night; today's EDT offset would say 02:15.
    expect(toClient.body.subject).toBe(`Starting soon: your appointment with ${expert.name} at Sun 7 Nov, 01:15 EST`);
    const toExpert = calls.resend.find((c) => c.idempotencyKey === `reminder:1h:${appt}:expert`)!;
    expect(toExpert.body.text).toContain("Sunday 7 November 2032 at 11:45 GMT+5:30 (Asia/Kolkata)");
  });
});
