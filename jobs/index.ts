import { schedules } from "@/config/qstash";
import { createRegistry } from "@/lib/jobs/registry";
import checkStockLevels from "../products/commerce/jobs/check-stock-levels";
import cleanupInventoryLocks from "../products/commerce/jobs/cleanup-inventory-locks";
import cleanupNotifications from "../products/commerce/jobs/cleanup-notifications";
import cleanupPasswordResets from "../products/commerce/jobs/cleanup-password-resets";
import cleanupUnverifiedUsers from "../products/commerce/jobs/cleanup-unverified-users";
import dailySalesSummary from "../products/commerce/jobs/daily-sales-summary";
import reconcileStalePayments from "../products/commerce/jobs/reconcile-stale-payments";
import sendOrderEmail from "../products/commerce/jobs/send-order-email";
import { campaignJobs } from "../products/campaigns/jobs";
import planFounderEmails from "../products/engagement/jobs/plan-founder-emails";
import planPracticeReminders from "../products/engagement/jobs/plan-practice-reminders";
import sendFounderEmail from "../products/engagement/jobs/send-founder-email";
import sendPracticeReminder from "../products/engagement/jobs/send-practice-reminder";
import callForm from "../products/forms/jobs/call-form";
import checkForms from "../products/forms/jobs/check-forms";
import appointmentReminders from "../products/marketplace/jobs/appointment-reminders";
import appointmentReminders1hr from "../products/marketplace/jobs/appointment-reminders-1hr";
import checkUpcomingPayouts from "../products/marketplace/jobs/check-upcoming-payouts";
import cleanupBlockedDates from "../products/marketplace/jobs/cleanup-blocked-dates";
import cleanupExpiredReservations from "../products/marketplace/jobs/cleanup-expired-reservations";
import processExpertTransfers from "../products/marketplace/jobs/process-expert-transfers";
import processPendingPayouts from "../products/marketplace/jobs/process-pending-payouts";
import processTasks from "../products/marketplace/jobs/process-tasks";
import sendPaymentReminders from "../products/marketplace/jobs/send-payment-reminders";
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
