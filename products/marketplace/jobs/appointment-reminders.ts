import { defineJob } from "@/lib/jobs/define";
import { sendAppointmentReminders } from "./shared/appointment-reminders";

const TIMEOUT_MS = 280_000;

/** The day-before reminder: appointments starting within 24 h, to client and expert, each once. */
export default defineJob({
  name: "appointment-reminders",
  description: "Email and in-app reminder to client and expert of appointments in the next 24 hours",
  timeoutMs: TIMEOUT_MS,
  handler: (ctx) => sendAppointmentReminders(ctx, { kind: "24h", windowMs: 24 * 3_600_000 }),
});
