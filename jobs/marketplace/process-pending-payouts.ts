import { defineJob } from "@/lib/jobs/define";
import { drainClaims, errorText, type ClaimPage, type ItemResult } from "@/lib/jobs/batch";

interface Due {
  payout_id: string;
  expert_id: string;
  payout_date: string;
  amount: number;
  currency: string;
  account: string;
}

const TIMEOUT_MS = 240_000;

/**
 * Experts whose transferred balance reaches MIN_PAYOUT_AMOUNT get one payout a day from their
 * connected account to their bank, key payout:<expert>:<date>. A failed payout keeps its money
 * and its key; a later run retries it (at most 5 attempts, then it waits for a person).
 */
export default defineJob({
  name: "process-pending-payouts",
  description: "Pay out experts whose available balance reaches the minimum, once per expert per day",
  timeoutMs: TIMEOUT_MS,
  async handler({ db, env, providers, now, run, signal, log }) {
    const stripe = providers.stripe();
    const date = now.toISOString().slice(0, 10);
    let exhausted = 0;
    let amount = 0;
    const counts = await drainClaims<Due, { id: string; arrivalDate: string }>({
      claim: async () => {
        const page = await db.rpc<ClaimPage<Due> & { exhausted: number }>("payouts_claim", {
          p_run_id: run.id,
          p_now: now,
          p_date: date,
          p_min_amount: env.marketplace.minPayoutAmount,
          p_lease_ms: TIMEOUT_MS,
          p_limit: 100,
        });
        exhausted = page.exhausted;
        return page;
      },
      work: async (p) => {
        const po = await stripe.createPayout({
          account: p.account,
          amount: p.amount,
          currency: p.currency,
          metadata: { payout_id: p.payout_id, expert_id: p.expert_id },
          idempotencyKey: `payout:${p.expert_id}:${p.payout_date}`,
        });
        amount += p.amount;
        return po;
      },
      finish: (results) => db.rpc("payouts_finish", { p_run_id: run.id, p_results: results.map(row) }).then(() => {}),
      concurrency: 4,
      signal,
      onError: (p, error) => log.warn("payout.failed", { payoutId: p.payout_id, expertId: p.expert_id, error: errorText(error) }),
    });
    if (exhausted) log.warn("payout.exhausted", { payouts: exhausted, hint: "payouts failed 5 times; see payouts.last_error" });
    return { paid: counts.ok, failed: counts.failed, amount, exhausted };
  },
});

function row(r: ItemResult<Due, { id: string; arrivalDate: string }>) {
  if (r.ok) return { payout_id: r.item.payout_id, ok: true, stripe_payout_id: r.value.id, arrival_date: r.value.arrivalDate };
  if ("released" in r) return { payout_id: r.item.payout_id, released: true };
  return { payout_id: r.item.payout_id, ok: false, error: errorText(r.error) };
}
