import { z } from "zod";
import { ProviderError } from "@/lib/errors";
import { requestSignal, vendorError } from "@/lib/providers/errors";
import type { PaymentsProvider, ProviderPayment } from "./types";

/**
 * Razorpay's REST API, read only: GET /v1/payments/:id with HTTP Basic key id and secret. One
 * authenticated GET does not justify the SDK as a dependency; fetch carries the run's signal.
 * 429 ends the run with Razorpay's Retry-After, 401 names the keys, 5xx and network errors are
 * ProviderErrors that the job retries.
 */
const payment = z.object({
  id: z.string(),
  status: z.enum(["created", "authorized", "captured", "refunded", "failed"]),
  order_id: z.string().nullable().optional(),
  amount: z.number().int(),
  currency: z.string(),
});

export function createRazorpayProvider(cfg: { keyId: string; keySecret: string; baseUrl: string }): PaymentsProvider {
  const auth = `Basic ${Buffer.from(`${cfg.keyId}:${cfg.keySecret}`).toString("base64")}`;
  return {
    async fetchPayment(id, signal): Promise<ProviderPayment> {
      let res: Response;
      try {
        res = await fetch(`${cfg.baseUrl}/v1/payments/${encodeURIComponent(id)}`, {
          headers: { authorization: auth, accept: "application/json" },
          signal: requestSignal(signal),
        });
      } catch (err) {
        if ((err as Error).name === "AbortError" || (err as Error).name === "TimeoutError") throw err;
        throw vendorError("Razorpay", "RAZORPAY_KEY_ID", undefined, (err as Error).message, undefined, err);
      }
      const body: unknown = await res.json().catch(() => undefined);
      if (!res.ok) {
        const described = (body as { error?: { code?: string; description?: string } } | undefined)?.error;
        const message = described ? `${described.code ?? "error"}: ${described.description ?? ""}` : res.statusText;
        throw vendorError("Razorpay", "RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET", res.status, message, res.headers.get("retry-after"));
      }
      const parsed = payment.safeParse(body);
      if (!parsed.success) {
        throw new ProviderError("Razorpay", `unexpected answer for payment ${id}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      }
      const p = parsed.data;
      return { id: p.id, status: p.status, orderId: p.order_id ?? null, amount: p.amount, currency: p.currency };
    },
  };
}
