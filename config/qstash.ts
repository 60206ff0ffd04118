import { DEFAULT_STORE_TIME_ZONE } from "@/lib/env";
import type { ScheduleEntry } from "@/lib/jobs/schedules";

/** The shop's zone: the same variable daily-sales-summary reads, so it summarises the day of its own tick. */
const STORE_TIME_ZONE = process.env.STORE_TIME_ZONE?.trim() || DEFAULT_STORE_TIME_ZONE;

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
    job: "retention",
    cron: "20 * * * *",
    retries: 3,
    priority: "medium",
    description: "Layer upkeep: runs, settled effects, message records, dead letters, incidents past their retention",
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
  {
    job: "check-forms",
    cron: "0 * * * *",
    retries: 3,
    priority: "high",
    description: "Forms past their deadline, not submitted, not called, whose deadline call went missing -> call-form",
  },
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
  { job: "cleanup-inventory-locks", cron: "*/5 * * * *", retries: 3, priority: "high", description: "Shop: inventory locks past expiry -> deleted (stock back on sale)" },
  { job: "check-stock-levels", cron: "0 * * * *", retries: 3, priority: "medium", description: "Shop: products newly at or below their low-stock threshold -> one admin alert" },
  { job: "reconcile-stale-payments", cron: "*/10 * * * *", retries: 3, priority: "high", description: "Shop: payments pending over 10 min -> Razorpay; captured: confirm + email, failed: release stock" },
  { job: "cleanup-notifications", cron: "0 2 * * *", retries: 3, priority: "low", description: "Shop: read notifications older than 30 days -> deleted" },
  { job: "cleanup-password-resets", cron: "0 * * * *", retries: 3, priority: "medium", description: "Shop: expired or used password-reset tokens -> deleted" },
  { job: "cleanup-unverified-users", cron: "0 3 1 * *", retries: 3, priority: "low", description: "Shop: accounts unverified after 30 days -> deleted with their dependent rows" },
  { job: "daily-sales-summary", cron: `CRON_TZ=${STORE_TIME_ZONE} 0 18 * * *`, retries: 3, priority: "low", description: "Shop: the store day's sold orders (count, total, top products) -> admin email" },
];
