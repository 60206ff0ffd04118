import { paymentReminderEmail } from "../emails/payment-reminder";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { notificationStats } from "./shared/appointment-reminders";

interface Due {
  appointment_id: string;
  /** Which reminder this is: one more than the ones that went out. */
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
  async handler(ctx) {
    const { db, providers, now, signal } = ctx;
    const email = providers.email();
    const counts = await runEffects<Due, { email: string }>(ctx, {
      due: ({ after, limit }) =>
        db.rpc<Due[]>("payment_reminders_due", {
          p_now: now,
          p_window_ms: PAYMENT_REMINDERS.windowMs,
          p_spacing_ms: PAYMENT_REMINDERS.spacingMs,
          p_max: PAYMENT_REMINDERS.max,
          p_after_due_at: after?.payment_due_at,
          p_after_id: after?.appointment_id,
          p_limit: limit,
        }),
      key: (r) => `payment-reminder:${r.appointment_id}:${r.seq}`,
      onUnknown: "retry-with-key", // Resend keeps the first email per key
      // The booking: its succeeded reminders are how the next one gets its number and its spacing.
      subject: (r) => r.appointment_id,
      work: async (r, effect) => {
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
        const sent = await email.send({ to: r.to.email, ...message, idempotencyKey: effect.key, tags: { kind: "payment-reminder" } }, signal);
        return { email: sent.id };
      },
      pageSize: 250,
      concurrency: 8,
    });
    return notificationStats(counts);
  },
});
