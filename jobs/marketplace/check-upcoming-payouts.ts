import { payoutUpcomingEmail } from "@/emails/payout-upcoming";
import { defineJob } from "@/lib/jobs/define";
import { drainClaims, errorText, type ClaimPage } from "@/lib/jobs/batch";
import { claimRow } from "./shared/appointment-reminders";

interface Due {
  key: string;
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
  async handler({ db, providers, now, run, signal, log }) {
    const email = providers.email();
    const notify = providers.notify();
    const counts = await drainClaims<Due, void>({
      claim: () =>
        db.rpc<ClaimPage<Due>>("upcoming_payouts_claim", { p_run_id: run.id, p_now: now, p_days: PAYOUT_NOTICE_DAYS, p_lease_ms: TIMEOUT_MS, p_limit: 200 }),
      work: async (p) => {
        const message = payoutUpcomingEmail({ name: p.to.name, amount: p.amount, currency: p.currency, arrivalDate: p.arrival_date });
        await email.send({ to: p.to.email, ...message, idempotencyKey: p.key, tags: { kind: "payout-upcoming" } }, signal);
        await notify.trigger(
          {
            workflowId: "payout-upcoming",
            subscriber: { id: p.to.id, email: p.to.email, name: p.to.name },
            payload: { payoutId: p.payout_id, amount: p.amount, currency: p.currency, arrivalDate: p.arrival_date, subject: message.subject },
            transactionId: p.key,
          },
          signal,
        );
      },
      finish: (results) => db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: results.map(claimRow) }).then(() => {}),
      concurrency: 8,
      signal,
      onError: (p, error) => log.warn("payout_notice.failed", { key: p.key, error: errorText(error) }),
    });
    return { notified: counts.ok, failed: counts.failed };
  },
});
