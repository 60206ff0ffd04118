import type { ScheduleEntry } from "@/lib/jobs/schedules";

/** The engagement product's recurring jobs (UTC unless `CRON_TZ=`); ids are `<SCHEDULE_PREFIX>-<job>`. */
export const schedules: ScheduleEntry[] = [
  {
    job: "plan-practice-reminders",
    cron: "0 * * * *",
    retries: 3,
    priority: "high",
    description: "Learners at 09:xx in their own zone who have not practised today -> send-practice-reminder each (fan-out)",
  },
  {
    job: "plan-founder-emails",
    cron: "0 14 * * *",
    retries: 3,
    priority: "medium",
    description: "Learners on day 1, 2 or 3 after sign-up (their zone) -> send-founder-email each, once per step (fan-out)",
  },
];
