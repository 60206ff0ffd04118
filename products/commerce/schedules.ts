import type { ScheduleEntry } from "@/lib/jobs/schedules";
import { DEFAULT_STORE_TIME_ZONE } from "./env";

/** The shop's zone: the same variable daily-sales-summary reads, so it summarises the day of its own tick. */
const STORE_TIME_ZONE = process.env.STORE_TIME_ZONE?.trim() || DEFAULT_STORE_TIME_ZONE;

/** The commerce product's recurring jobs (UTC unless `CRON_TZ=`); ids are `<SCHEDULE_PREFIX>-<job>`. */
export const schedules: ScheduleEntry[] = [
  { job: "cleanup-inventory-locks", cron: "*/5 * * * *", retries: 3, priority: "high", description: "Shop: inventory locks past expiry -> deleted (stock back on sale)" },
  { job: "check-stock-levels", cron: "0 * * * *", retries: 3, priority: "medium", description: "Shop: products newly at or below their low-stock threshold -> one admin alert" },
  { job: "reconcile-stale-payments", cron: "*/10 * * * *", retries: 3, priority: "high", description: "Shop: payments pending over 10 min -> Razorpay; captured: confirm + email, failed: release stock" },
  { job: "cleanup-notifications", cron: "0 2 * * *", retries: 3, priority: "low", description: "Shop: read notifications older than 30 days -> deleted" },
  { job: "cleanup-password-resets", cron: "0 * * * *", retries: 3, priority: "medium", description: "Shop: expired or used password-reset tokens -> deleted" },
  { job: "cleanup-unverified-users", cron: "0 3 1 * *", retries: 3, priority: "low", description: "Shop: accounts unverified after 30 days -> deleted with their dependent rows" },
  // A report of one store day (run.slotAt): a missed day is its own run, within a day.
  { job: "daily-sales-summary", cron: `CRON_TZ=${STORE_TIME_ZONE} 0 18 * * *`, retries: 3, priority: "low", catchUp: { window: "1d", each: true }, description: "Shop: the store day's sold orders (count, total, top products) -> admin email" },
];
