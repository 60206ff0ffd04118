import type { ScheduleEntry } from "@/lib/jobs/schedules";

/** The marketplace product's recurring jobs (UTC unless `CRON_TZ=`); ids are `<SCHEDULE_PREFIX>-<job>`. */
export const schedules: ScheduleEntry[] = [
  {
    job: "process-expert-transfers",
    cron: "0 */2 * * *",
    retries: 3,
    priority: "critical",
    description: "Captured payments of completed appointments past the hold window -> Stripe transfer to the expert",
  },
  {
    job: "appointment-reminders",
    cron: "0 9 * * *",
    retries: 3,
    priority: "high",
    description: "Appointments in the next 24 hours -> email + in-app reminder to client and expert",
  },
  {
    job: "appointment-reminders-1hr",
    cron: "*/15 * * * *",
    retries: 2,
    priority: "high",
    description: "Appointments in the next 60 minutes -> email + in-app reminder",
  },
  {
    job: "process-pending-payouts",
    cron: "0 6 * * *",
    retries: 3,
    priority: "high",
    description: "Experts whose available balance reaches the minimum -> Stripe payout",
  },
  {
    job: "send-payment-reminders",
    cron: "0 */6 * * *",
    retries: 3,
    priority: "high",
    description: "Bookings awaiting payment near their deadline -> reminder (at most 3, 6 h apart)",
  },
  {
    job: "cleanup-expired-reservations",
    cron: "*/15 * * * *",
    retries: 3,
    priority: "medium",
    description: "Release unpaid slot holds past expiry",
  },
  {
    job: "process-tasks",
    cron: "0 4 * * *",
    retries: 3,
    priority: "medium",
    description: "Due admin tasks; audit-log retention",
  },
  {
    job: "check-upcoming-payouts",
    cron: "0 12 * * *",
    retries: 3,
    priority: "medium",
    description: "Payouts arriving in the next 3 days -> notify the expert once",
  },
  {
    job: "cleanup-blocked-dates",
    cron: "0 0 * * *",
    retries: 3,
    priority: "low",
    description: "Blocked dates in the past (expert's zone) -> deleted",
  },
];
