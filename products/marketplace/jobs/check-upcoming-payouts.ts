import { payoutUpcomingEmail } from "../emails/payout-upcoming";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { notificationStats } from "./shared/appointment-reminders";

interface Due {
  payout_id: string;
  amount: number;
  currency: string;
  arrival_date: string;
  to: { id: string; name: string; email: string; time_zone: string };
}

const TIMEOUT_MS = 120_000;
export const PAYOUT_NOTICE_DAYS = 3;

/** Payouts arriving within 3 days (the expert's calendar): tell the expert once, by email and in-app. */
export default defineJob({
  name: "check-upcoming-payouts",
  description: "Tell experts about payouts arriving in the next 3 days, once per payout",
  timeoutMs: TIMEOUT_MS,
  async handler(ctx) {
    const { db, providers, now, signal } = ctx;
    const email = providers.email();
    const notify = providers.notify();
    const counts = await runEffects<Due, { email: string }>(ctx, {
      due: ({ after, limit }) =>
        db.rpc<Due[]>("upcoming_payouts_due", { p_now: now, p_days: PAYOUT_NOTICE_DAYS, p_after_arrival: after?.arrival_date, p_after_id: after?.payout_id, p_limit: limit }),
      key: (p) => `payout-upcoming:${p.payout_id}`,
      onUnknown: "retry-with-key", // Resend and Novu keep the first request per key
      subject: (p) => p.payout_id,
      work: async (p, effect) => {
        const message = payoutUpcomingEmail({ name: p.to.name, amount: p.amount, currency: p.currency, arrivalDate: p.arrival_date });
        const sent = await email.send({ to: p.to.email, ...message, idempotencyKey: effect.key, tags: { kind: "payout-upcoming" } }, signal);
        await notify.trigger(
          {
            workflowId: "payout-upcoming",
            subscriber: { id: p.to.id, email: p.to.email, name: p.to.name },
            payload: { payoutId: p.payout_id, amount: p.amount, currency: p.currency, arrivalDate: p.arrival_date, subject: message.subject },
            transactionId: effect.key,
          },
          signal,
        );
        return { email: sent.id };
      },
      pageSize: 200,
      concurrency: 8,
    });
    const { sent, ...rest } = notificationStats(counts);
    return { notified: sent, ...rest };
  },
});
