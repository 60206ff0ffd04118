import { schedules } from "@/config/qstash";
import { createRegistry } from "@/lib/jobs/registry";
import checkStockLevels from "./commerce/check-stock-levels";
import cleanupInventoryLocks from "./commerce/cleanup-inventory-locks";
import cleanupNotifications from "./commerce/cleanup-notifications";
import cleanupPasswordResets from "./commerce/cleanup-password-resets";
import cleanupUnverifiedUsers from "./commerce/cleanup-unverified-users";
import dailySalesSummary from "./commerce/daily-sales-summary";
import reconcileStalePayments from "./commerce/reconcile-stale-payments";
import sendOrderEmail from "./commerce/send-order-email";
import { campaignJobs } from "./campaigns";
import planFounderEmails from "./engagement/plan-founder-emails";
import planPracticeReminders from "./engagement/plan-practice-reminders";
import sendFounderEmail from "./engagement/send-founder-email";
import sendPracticeReminder from "./engagement/send-practice-reminder";
import callForm from "./forms/call-form";
import checkForms from "./forms/check-forms";
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
import retention from "./system/retention";

/** The one list of jobs. Add a job: one file under jobs/<domain>/, one line here. */
export const jobs = [
  keepAlive,
  heartbeat,
  retention,
  processExpertTransfers,
  appointmentReminders,
  appointmentReminders1hr,
  processPendingPayouts,
  sendPaymentReminders,
  cleanupExpiredReservations,
  processTasks,
  checkUpcomingPayouts,
  cleanupBlockedDates,
  planPracticeReminders, sendPracticeReminder, planFounderEmails, sendFounderEmail,
  checkForms, callForm,
  ...campaignJobs,
  cleanupInventoryLocks,
  checkStockLevels,
  reconcileStalePayments,
  sendOrderEmail,
  cleanupNotifications,
  cleanupPasswordResets,
  cleanupUnverifiedUsers,
  dailySalesSummary,
];

export const registry = createRegistry(jobs, schedules);
