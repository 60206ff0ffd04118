import { paymentReminderEmail } from "@/emails/payment-reminder";
import { defineJob } from "@/lib/jobs/define";
import { drainClaims, errorText, type ClaimPage } from "@/lib/jobs/batch";
import { claimRow } from "./shared/appointment-reminders";

interface Due {
  key: string;
  appointment_id: string;
  seq: number;
  max: number;
  starts_at: string;
  payment_due_at: string;
  amount: number | null;
  currency: string;
  to: { id: string; name: string; email: string; time_zone: string };
  with_name: string;
}

const TIMEOUT_MS = 120_000;
// The cron period of this job (every 6 hours, config/qstash.ts): one chance to remind per tick.
const PERIOD_MS = 6 * 3_600_000;
/**
 * A reminder is stamped with its run's start, which trails its tick by the delivery lag (seconds,
 * minutes when QStash retried). Spacing by the full period would put the next on-time tick just
 * short of it and skip a whole cycle; spacing by a little less absorbs that lag, and a manual run
 * between ticks still cannot send two reminders within 5.5 h.
 */
const DELIVERY_LAG_TOLERANCE_MS = 30 * 60_000;
export const PAYMENT_REMINDERS = { windowMs: 24 * 3_600_000, spacingMs: PERIOD_MS - DELIVERY_LAG_TOLERANCE_MS, max: 3 };

/**
 * Bookings still awaiting payment whose deadline is within 24 h: a reminder to the client, at most
 * 3 per booking, one per 6-hourly tick. Reminder n has the key payment-reminder:<booking>:<n>.
 */
export default defineJob({
  name: "send-payment-reminders",
  description: "Remind clients to pay bookings whose payment deadline is within 24 hours (at most 3, about 6 hours apart)",
  timeoutMs: TIMEOUT_MS,
  async handler({ db, providers, now, run, signal, log }) {
    const email = providers.email();
    const counts = await drainClaims<Due, void>({
      claim: () =>
        db.rpc<ClaimPage<Due>>("payment_reminders_claim", {
          p_run_id: run.id,
          p_now: now,
          p_window_ms: PAYMENT_REMINDERS.windowMs,
          p_spacing_ms: PAYMENT_REMINDERS.spacingMs,
          p_max: PAYMENT_REMINDERS.max,
          p_lease_ms: TIMEOUT_MS,
          p_limit: 250,
        }),
      work: async (r) => {
        const message = paymentReminderEmail({
          name: r.to.name,
          expertName: r.with_name,
          startsAt: r.starts_at,
          paymentDueAt: r.payment_due_at,
          timeZone: r.to.time_zone,
          amount: r.amount,
          currency: r.currency,
          seq: r.seq,
          max: r.max,
        });
        await email.send({ to: r.to.email, ...message, idempotencyKey: r.key, tags: { kind: "payment-reminder" } }, signal);
      },
      finish: (results) => db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: results.map(claimRow) }).then(() => {}),
      concurrency: 8,
      signal,
      onError: (r, error) => log.warn("payment_reminder.failed", { key: r.key, error: errorText(error) }),
    });
    return { sent: counts.ok, failed: counts.failed };
  },
});
