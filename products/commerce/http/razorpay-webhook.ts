import { z } from "zod";
import { describeError } from "@/lib/errors";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";
import { commerceEnv } from "../env";
import { confirmCapturedPayment, failPayment } from "../lib/payments";
import { verifyRazorpaySignature } from "../lib/razorpay-signature";
import { readSignedEvent, type WebhookSigning } from "./signed-webhook";

const event = z.object({
  event: z.string().min(1),
  payload: z.object({
    payment: z.object({ entity: z.object({ id: z.string().min(1), amount: z.number().int().nonnegative(), status: z.string() }) }).optional(),
  }),
});

const RAZORPAY_SIGNING: WebhookSigning = {
  log: "commerce.webhook",
  variable: "RAZORPAY_WEBHOOK_SECRET",
  secret: (deps) => commerceEnv.of(deps.env).razorpayWebhookSecret,
  unconfigured: "webhooks are refused until it is (Razorpay Dashboard -> Webhooks -> the webhook's secret)",
  header: "x-razorpay-signature",
  rejected: "invalid X-Razorpay-Signature",
  verify: verifyRazorpaySignature,
};

/**
 * `POST /api/commerce/razorpay-webhook`: Razorpay's payment events. The signature over the raw
 * body is checked first; without RAZORPAY_WEBHOOK_SECRET nothing can be checked and every call is
 * refused (503). `payment.captured` confirms through the same function as reconcile-stale-payments,
 * `payment.failed` marks the payment failed; other events are acknowledged and ignored. A failure
 * on our side answers 500, so Razorpay delivers again and the retry finishes the work.
 */
export function razorpayWebhookRoute(getDeps: () => Promise<RunDeps>) {
  async function POST(req: Request): Promise<Response> {
    const read = await readSignedEvent(req, getDeps, RAZORPAY_SIGNING, event);
    if (read instanceof Response) return read;
    const { deps } = read;
    const { event: name, payload } = read.event;
    const payment = payload.payment?.entity;
    if ((name !== "payment.captured" && name !== "payment.failed") || !payment) return json(200, { ignored: name });

    const now = new Date();
    const where = { event: name, payment: payment.id };
    try {
      const r =
        name === "payment.captured"
          ? await confirmCapturedPayment(deps, { transactionId: payment.id, amount: payment.amount, now })
          : await failPayment(deps.db, { transactionId: payment.id, now });
      if (r.outcome === "conflict") deps.log.error("commerce.webhook.conflict", { ...where, reason: r.reason, hint: "a person decides: refund or re-open the order" });
      else if (r.outcome === "unknown_payment") deps.log.warn("commerce.webhook.unknown_payment", where);
      else deps.log.info("commerce.webhook.applied", { ...where, outcome: r.outcome });
      return json(200, { outcome: r.outcome, orderId: r.order_id ?? null });
    } catch (err) {
      deps.log.error("commerce.webhook.failed", { ...where, error: describeError(err) });
      return json(500, { error: "the event could not be applied; it will be delivered again" });
    }
  }
  return { POST };
}
