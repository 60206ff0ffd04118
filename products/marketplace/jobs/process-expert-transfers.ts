import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { marketplaceEnv } from "../env";
import { marketplaceProviders, type Transfer } from "../providers";
import { abandonedEffects } from "./shared/stripe-effects";

interface Due {
  payment_id: string;
  appointment_id: string;
  expert_id: string;
  amount: number;
  currency: string;
  destination: string;
  charge_id: string | null;
  completed_at: string;
}

const TIMEOUT_MS = 240_000;

/**
 * The expert's share of each captured payment, once the appointment is completed and the hold
 * window (refunds, disputes) has passed, goes to their Stripe connected account: the effect
 * transfer:<payment id>, also the Idempotency-Key. The payment is marked transferred when its
 * effect succeeds; a transfer whose answer was lost is looked up in its transfer group first.
 */
export default defineJob({
  name: "process-expert-transfers",
  description: "Transfer captured payments of completed appointments past the hold window to the expert's Stripe account",
  timeoutMs: TIMEOUT_MS,
  async handler(ctx) {
    const { db, env, providers, now, log } = ctx;
    const stripe = marketplaceProviders.of(providers).stripe();
    let noAccount = 0;
    let amount = 0;
    const moved = (p: Due, t: Transfer) => {
      amount += p.amount;
      return t;
    };
    const group = (p: Due) => `appointment_${p.appointment_id}`;
    const counts = await runEffects<Due, Transfer>(ctx, {
      due: async ({ after, limit }) => {
        const page = await db.rpc<{ items: Due[]; no_account: number | null }>("expert_transfers_due", {
          p_now: now,
          p_hold_days: marketplaceEnv.of(env).transferHoldDays,
          p_after_completed_at: after?.completed_at,
          p_after_id: after?.payment_id,
          p_limit: limit,
        });
        noAccount = page.no_account ?? noAccount;
        return page.items;
      },
      key: (p) => `transfer:${p.payment_id}`,
      subject: (p) => p.payment_id,
      work: async (p, effect) =>
        moved(
          p,
          await stripe.createTransfer({
            amount: p.amount,
            currency: p.currency,
            destination: p.destination,
            sourceTransaction: p.charge_id ?? undefined,
            transferGroup: group(p),
            metadata: { payment_id: p.payment_id, appointment_id: p.appointment_id, expert_id: p.expert_id },
            idempotencyKey: effect.key,
          }),
        ),
      reconcile: async (p) => {
        const found = await stripe.findTransfer({ transferGroup: group(p), metadata: { payment_id: p.payment_id } });
        return found && moved(p, found);
      },
      finish: "expert_transfers_settle",
      maxAttempts: 12,
      backoffMs: 15 * 60_000,
      concurrency: 4,
    });
    const exhausted = await abandonedEffects(ctx);
    if (noAccount) log.warn("transfer.no_account", { payments: noAccount, hint: "these experts have not finished Stripe onboarding" });
    if (exhausted) log.warn("transfer.abandoned", { transfers: exhausted, hint: "out of attempts or rejected for good: GET /api/diagnostics?job=process-expert-transfers lists them" });
    return { transferred: counts.succeeded, failed: counts.failed, unknown: counts.unknown, amount, noAccount, exhausted };
  },
});
