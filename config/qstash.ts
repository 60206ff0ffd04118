import type { ScheduleEntry } from "@/lib/jobs/schedules";

/**
 * Every recurring job, as data. `pnpm qstash:schedule` syncs the QStash entries to schedule ids
 * `<SCHEDULE_PREFIX>-<job>`; the `vercel` entry must match vercel.json (a test holds them together).
 * Cron is UTC unless prefixed with `CRON_TZ=<IANA zone> `.
 */
export const schedules: ScheduleEntry[] = [
  {
    job: "keep-alive",
    via: "vercel",
    cron: "0 6 * * *",
    priority: "critical",
    description: "Heartbeat: database, Redis, tokens, caches, watchdog over the QStash jobs",
  },
  {
    job: "heartbeat",
    cron: "* * * * *",
    only: "local",
    retries: 0,
    priority: "low",
    description: "Local only: proves the local stack fires schedules",
  },
  {
    job: "cleanup-expired-reservations",
    cron: "*/15 * * * *",
    retries: 3,
    priority: "medium",
    description: "Release unpaid slot holds past expiry",
  },
];
