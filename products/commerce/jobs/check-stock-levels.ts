import { stockAlertEmail, type LowStockProduct } from "../emails/stock-alert";
import { adminRecipients } from "../lib/admin";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

interface Alert {
  /** stock-alert:<first episode id>: the effect key, Resend's idempotency key, the Slack claim. */
  key: string;
  products: (LowStockProduct & { product_id: string })[];
}

/**
 * Products at or below their low-stock threshold: one alert to the admins (email, and Slack when
 * configured) listing those newly low. Each product's low spell is an episode (commerce_stock_alerts):
 * announced once, closed when it is restocked above its threshold, so a product that stays low
 * is not announced again every hour, and one that falls again after a restock is.
 */
export default defineJob({
  name: "check-stock-levels",
  description: "Products newly at or below their low-stock threshold -> one admin alert (email, Slack when configured)",
  timeoutMs: 60_000,
  async handler(ctx) {
    const { db, env, providers, now, signal } = ctx;
    const scan = await db.rpc<{ opened: number; closed: number }>("commerce_stock_alerts_scan", { p_now: now });
    const counts = await runEffects<Alert, { email: string | null; slack: boolean }>(ctx, {
      due: ({ after, limit }) => db.rpc<Alert[]>("commerce_stock_alerts_due", { p_now: now, p_after_key: after?.key ?? null, p_limit: limit }),
      key: (a) => a.key,
      onUnknown: "retry", // Slack has no idempotency key: a second low-stock alert beats a lost one (docs/reliability.md)
      work: async (a, effect) => {
        const message = stockAlertEmail(a.products);
        const slack = providers.slack();
        // Slack alone is enough when no ALERT_EMAIL is set; neither is a configuration error.
        const to = env.alertEmails.length || !slack ? adminRecipients(env, "the low-stock alert") : [];
        // Email first: Resend drops a repeat of the key, so a retry after a failed Slack post sends one email.
        const sent = to.length ? await providers.email().send({ to, ...message, idempotencyKey: effect.key, tags: { kind: "stock-alert" } }, signal) : undefined;
        if (slack) await slack.post({ text: `*${message.subject}*\n${message.text}`, key: effect.key }, signal);
        return { email: sent?.id ?? null, slack: Boolean(slack) };
      },
      finish: "commerce_stock_alerts_settle",
      pageSize: 20,
      concurrency: 1,
    });
    return {
      newlyLow: scan.opened,
      restocked: scan.closed,
      alerts: counts.succeeded,
      failed: counts.failed + counts.unknown + counts.abandoned,
      skipped: counts.skipped,
    };
  },
});
