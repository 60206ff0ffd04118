import { defineJob } from "@/lib/jobs/define";
import { sendAppointmentReminders } from "./shared/appointment-reminders";

const TIMEOUT_MS = 120_000;

/** The last-hour reminder: appointments starting within 60 minutes, to client and expert, each once. */
export default defineJob({
  name: "appointment-reminders-1hr",
  description: "Email and in-app reminder to client and expert of appointments in the next 60 minutes",
  timeoutMs: TIMEOUT_MS,
  handler: (ctx) => sendAppointmentReminders(ctx, { kind: "1h", windowMs: 3_600_000 }),
});
