import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

interface Order { id: string; email: string; status: string }

export default defineJob({
  name: "send-order-emails",
  description: "Email each customer once when their order ships",
  timeoutMs: 60_000,
  async handler(ctx) {
    const email = ctx.providers.email();
    const c = await runEffects<Order, unknown>(ctx, {
      // A keyset-paged SELECT in a migration: the shipped orders after `after`.
      due: ({ after, limit }) => ctx.db.rpc("shipped_orders_due", { p_after: after?.id ?? null, p_limit: limit }),
      key: (o) => `order-shipped:${o.id}`,
      work: (o, { key }) => {
        const text = `Order ${o.id} is on its way.`;
        return email.send({ to: o.email, subject: "Your order shipped", text, html: `<p>${text}</p>`, idempotencyKey: key });
      },
    });
    return { sent: c.succeeded, failed: c.failed, unknown: c.unknown }; // stats, stored in the ledger
  },
});
