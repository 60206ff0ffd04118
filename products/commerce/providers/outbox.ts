import type { OutboxRecorder } from "@/lib/providers";
import type { PaymentsProvider, ProviderPayment } from "./types";

/**
 * Razorpay without keys: nothing is sent, so there is nothing to record. A payment's status is
 * what was last recorded for it (provider `razorpay`, payload `{ type: "payment", id, status }`,
 * e.g. by the seed or by hand to play a capture), else "created": a stale payment stays pending.
 */
export function outboxPayments(record: OutboxRecorder): PaymentsProvider {
  return {
    async fetchPayment(id, signal) {
      const [e] = (await record.find?.("razorpay", { type: "payment", id }, { signal })) ?? [];
      const p = (e?.payload ?? {}) as Partial<ProviderPayment> & { order_id?: string };
      return { id, status: p.status ?? "created", orderId: p.order_id ?? null, amount: typeof p.amount === "number" ? p.amount : undefined, currency: p.currency ?? "INR" };
    },
  };
}

