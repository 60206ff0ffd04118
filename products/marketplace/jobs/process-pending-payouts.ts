import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { marketplaceEnv } from "../env";
import { marketplaceProviders, type Payout } from "../providers";
import { abandonedEffects } from "./shared/stripe-effects";

interface Due {
  payout_id: string;
  expert_id: string;
  payout_date: string;
  amount: number;
  currency: string;
  account: string;
  created_at: string;
}

const TIMEOUT_MS = 240_000;
/** Stripe's clock and ours may differ a little: a lookup starts this long before the payout row. */
const CLOCK_SKEW_MS = 3_600_000;

/**
 * Experts whose transferred balance reaches MIN_PAYOUT_AMOUNT get one payout a day from their
 * connected account to their bank: today's payouts are planned first (the money of each fixed in
 * SQL), then each is made as the effect payout:<expert>:<date>, also the Idempotency-Key. A failed
 * payout keeps its money and its key and is retried after a backoff (at most 5 attempts, then it
 * waits for a person); one whose answer was lost is looked up on the expert's account first.
 */
export default defineJob({
  name: "process-pending-payouts",
  description: "Pay out experts whose available balance reaches the minimum, once per expert per day",
  timeoutMs: TIMEOUT_MS,
  async handler(ctx) {
    const { db, env, providers, now, log } = ctx;
    const stripe = marketplaceProviders.of(providers).stripe();
    let amount = 0;
    const paid = (p: Due, po: Payout) => {
      amount += p.amount;
      return po;
    };
    await db.rpc("payouts_plan", { p_now: now, p_date: now.toISOString().slice(0, 10), p_min_amount: marketplaceEnv.of(env).minPayoutAmount });
    const counts = await runEffects<Due, Payout>(ctx, {
      due: ({ after, limit }) => db.rpc<Due[]>("payouts_due", { p_now: now, p_after_date: after?.payout_date, p_after_id: after?.payout_id, p_limit: limit }),
      key: (p) => `payout:${p.expert_id}:${p.payout_date}`,
      subject: (p) => p.payout_id,
      work: async (p, effect) =>
        paid(
          p,
          await stripe.createPayout({
            account: p.account,
            amount: p.amount,
            currency: p.currency,
            metadata: { payout_id: p.payout_id, expert_id: p.expert_id },
            idempotencyKey: effect.key,
          }),
        ),
      reconcile: async (p) => {
        const createdSince = new Date(Date.parse(p.created_at) - CLOCK_SKEW_MS);
        const found = await stripe.findPayout({ account: p.account, createdSince, metadata: { payout_id: p.payout_id } });
        return found && paid(p, found);
      },
      finish: "payouts_settle",
      maxAttempts: 5,
      backoffMs: 3_600_000,
      concurrency: 4,
    });
    const exhausted = await abandonedEffects(ctx);
    if (exhausted) log.warn("payout.abandoned", { payouts: exhausted, hint: "out of attempts or rejected for good: GET /api/diagnostics?job=process-pending-payouts lists them" });
    return { paid: counts.succeeded, failed: counts.failed, unknown: counts.unknown, amount, exhausted };
  },
});
