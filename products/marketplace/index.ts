import { defineProduct } from "@/lib/products";
import { marketplaceEnv } from "./env";
import appointmentReminders from "./jobs/appointment-reminders";
import appointmentReminders1hr from "./jobs/appointment-reminders-1hr";
import checkUpcomingPayouts from "./jobs/check-upcoming-payouts";
import cleanupBlockedDates from "./jobs/cleanup-blocked-dates";
import cleanupExpiredReservations from "./jobs/cleanup-expired-reservations";
import processExpertTransfers from "./jobs/process-expert-transfers";
import processPendingPayouts from "./jobs/process-pending-payouts";
import processTasks from "./jobs/process-tasks";
import sendPaymentReminders from "./jobs/send-payment-reminders";
import { calendarTokensStep } from "./maintenance/calendar-tokens";
import { marketplaceProviders } from "./providers";
import { schedules } from "./schedules";
import { seed } from "./seed";

/** Experts and clients: appointment reminders, payments, Stripe transfers and payouts, calendar tokens. */
export default defineProduct({
  name: "marketplace",
  title: "Marketplace",
  summary: "Experts and clients book paid appointments: reminders, payment deadlines, Stripe transfers and payouts, Google Calendar tokens",
  jobs: [
    processExpertTransfers,
    appointmentReminders,
    appointmentReminders1hr,
    processPendingPayouts,
    sendPaymentReminders,
    cleanupExpiredReservations,
    processTasks,
    checkUpcomingPayouts,
    cleanupBlockedDates,
  ],
  schedules,
  env: marketplaceEnv,
  providers: marketplaceProviders,
  vendors: ["Stripe", "Google OAuth"],
  maintenance: [calendarTokensStep],
  seed,
});
