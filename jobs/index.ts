import { schedules } from "@/config/qstash";
import { createRegistry } from "@/lib/jobs/registry";
import appointmentReminders from "./marketplace/appointment-reminders";
import appointmentReminders1hr from "./marketplace/appointment-reminders-1hr";
import checkUpcomingPayouts from "./marketplace/check-upcoming-payouts";
import cleanupBlockedDates from "./marketplace/cleanup-blocked-dates";
import cleanupExpiredReservations from "./marketplace/cleanup-expired-reservations";
import processExpertTransfers from "./marketplace/process-expert-transfers";
import processPendingPayouts from "./marketplace/process-pending-payouts";
import processTasks from "./marketplace/process-tasks";
import sendPaymentReminders from "./marketplace/send-payment-reminders";
import heartbeat from "./system/heartbeat";
import keepAlive from "./system/keep-alive";

/** The one list of jobs. Add a job: one file under jobs/<domain>/, one line here. */
export const jobs = [
  keepAlive,
  heartbeat,
  processExpertTransfers,
  appointmentReminders,
  appointmentReminders1hr,
  processPendingPayouts,
  sendPaymentReminders,
  cleanupExpiredReservations,
  processTasks,
  checkUpcomingPayouts,
  cleanupBlockedDates,
];

export const registry = createRegistry(jobs, schedules);
