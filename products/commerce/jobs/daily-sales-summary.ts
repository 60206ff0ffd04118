import { z } from "zod";
import { salesSummaryEmail, type SalesSummary } from "../emails/sales-summary";
import { adminRecipients } from "../lib/admin";
import { storeDay, type StoreDay } from "../lib/store-day";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { commerceEnv } from "../env";

const TOP_PRODUCTS = 5;

/**
 * At 18:00 in the store's zone (STORE_TIME_ZONE): the orders placed that calendar day, local
 * midnight to local midnight (23 or 25 hours on a DST change day), that are processing, shipped or
 * delivered: count, total and top products, to the admins. The effect `sales-summary:<date>` keeps
 * it to one email per day however often the run repeats; a day whose email failed is sent again by
 * the next run, whichever day that run is about. `{ "date": "yyyy-mm-dd" }` summarises
 * another day (a missed one).
 */
export default defineJob({
  name: "daily-sales-summary",
  description: "The store day's sold orders (count, total, top products) -> admin email",
  payload: z.object({ date: z.iso.date().optional() }),
  timeoutMs: 60_000,
  async handler(ctx) {
    const { db, env, providers, now, run, payload, signal } = ctx;
    const zone = commerceEnv.of(env).storeTimeZone;
    // A tick is about its slot's day even when it runs late (after midnight, after retries).
    const day = storeDay(zone, payload.date ?? run.slotAt ?? now);
    // Earlier days whose email failed go out with this one (a retry run may come only after midnight).
    const retries = await db.rpc<string[]>("commerce_sales_summary_retries", { p_job: run.job, p_now: now });
    const days = [day, ...retries.filter((d) => d !== day.date).map((d) => storeDay(zone, d))];
    let summary: SalesSummary | undefined;
    const counts = await runEffects<StoreDay, { email: string }>(ctx, {
      due: ({ after }) => Promise.resolve(after ? [] : days),
      key: (d) => `sales-summary:${d.date}`,
      onUnknown: "retry-with-key", // Resend keeps the first email per key
      subject: (d) => d.date,
      work: async (d, effect) => {
        const s = await db.rpc<SalesSummary>("commerce_sales_summary", { p_from: d.from, p_to: d.to, p_top: TOP_PRODUCTS });
        if (d === day) summary = s;
        const message = salesSummaryEmail({ ...s, date: d.date, zone });
        const sent = await providers.email().send({ to: adminRecipients(env, "the daily sales summary"), ...message, idempotencyKey: effect.key, tags: { kind: "sales-summary" } }, signal);
        return { email: sent.id };
      },
    });
    return { date: day.date, sent: counts.succeeded, orders: summary?.orders ?? null, failed: counts.failed + counts.unknown + counts.abandoned, skipped: counts.skipped };
  },
});
