import { defineJob } from "@/lib/jobs/define";
import { drainClaims, errorText, type ClaimPage, type ItemResult } from "@/lib/jobs/batch";

interface Due {
  payment_id: string;
  appointment_id: string;
  expert_id: string;
  amount: number;
  currency: string;
  destination: string;
  charge_id: string | null;
}
type Claim = ClaimPage<Due> & { no_account: number; exhausted: number };

const TIMEOUT_MS = 240_000;

/**
 * The expert's share of each captured payment, once the appointment is completed and the hold
 * window (refunds, disputes) has passed, goes to their Stripe connected account. Idempotency key
 * transfer:<payment id>; a payment is marked transferred only after Stripe accepted the transfer.
 */
export default defineJob({
  name: "process-expert-transfers",
  description: "Transfer captured payments of completed appointments past the hold window to the expert's Stripe account",
  timeoutMs: TIMEOUT_MS,
  async handler({ db, env, providers, now, run, signal, log }) {
    const stripe = providers.stripe();
    let noAccount = 0;
    let exhausted = 0;
    let amount = 0;
    const counts = await drainClaims<Due, { id: string }>({
      claim: async () => {
        const page = await db.rpc<Claim>("expert_transfers_claim", {
          p_run_id: run.id,
          p_now: now,
          p_hold_days: env.marketplace.transferHoldDays,
          p_lease_ms: TIMEOUT_MS,
          p_limit: 100,
        });
        noAccount = page.no_account;
        exhausted = page.exhausted;
        return page;
      },
      work: async (p) => {
        const t = await stripe.createTransfer({
          amount: p.amount,
          currency: p.currency,
          destination: p.destination,
          sourceTransaction: p.charge_id ?? undefined,
          transferGroup: `appointment_${p.appointment_id}`,
          metadata: { payment_id: p.payment_id, appointment_id: p.appointment_id, expert_id: p.expert_id },
          idempotencyKey: `transfer:${p.payment_id}`,
        });
        amount += p.amount;
        return t;
      },
      finish: (results) => db.rpc("expert_transfers_finish", { p_run_id: run.id, p_now: now, p_results: results.map(row) }).then(() => {}),
      concurrency: 4,
      signal,
      onError: (p, error) => log.warn("transfer.failed", { paymentId: p.payment_id, error: errorText(error) }),
    });
    if (noAccount) log.warn("transfer.no_account", { payments: noAccount, hint: "these experts have not finished Stripe onboarding" });
    return { transferred: counts.ok, failed: counts.failed, amount, noAccount, exhausted };
  },
});

function row(r: ItemResult<Due, { id: string }>) {
  if (r.ok) return { payment_id: r.item.payment_id, ok: true, transfer_id: r.value.id };
  if ("released" in r) return { payment_id: r.item.payment_id, released: true };
  return { payment_id: r.item.payment_id, ok: false, error: errorText(r.error) };
}
