import type { ScheduleEntry } from "@/lib/jobs/schedules";

/** The forms product's recurring jobs (UTC unless `CRON_TZ=`); ids are `<SCHEDULE_PREFIX>-<job>`. */
export const schedules: ScheduleEntry[] = [
  {
    job: "check-forms",
    cron: "0 * * * *",
    retries: 3,
    priority: "high",
    description: "Forms past their deadline, not submitted, not called, whose deadline call went missing -> call-form",
  },
];
