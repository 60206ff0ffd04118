import { z } from "zod";
import { describeError } from "@/lib/errors";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";
import { commerceEnv } from "../env";
import { verifyCourierSignature } from "../lib/courier-signature";
import { parcelDelivered } from "../lib/order-status";
import { readSignedEvent, type WebhookSigning } from "./signed-webhook";

const COURIER_SIGNING: WebhookSigning = {
  log: "commerce.courier",
  variable: "COURIER_WEBHOOK_SECRET",
  secret: (deps) => commerceEnv.of(deps.env).courierWebhookSecret,
  unconfigured: "courier events are refused until it is (the secret the courier signs X-Courier-Signature with)",
  header: "x-courier-signature",
  rejected: "invalid X-Courier-Signature: hex HMAC-SHA256 of the raw body with COURIER_WEBHOOK_SECRET",
  verify: verifyCourierSignature,
};

const event = z.object({ event: z.string().min(1), trackingNumber: z.string().trim().min(1).max(100) });

/**
 * `POST /api/commerce/courier-webhook` `{ event: "delivered", trackingNumber }`: the courier's
 * delivery event. `X-Courier-Signature` (hex HMAC-SHA256 of the raw body with
 * COURIER_WEBHOOK_SECRET) is checked before anything is parsed; without the secret every call is
 * refused (503). Other events are acknowledged and ignored. A tracking number no order shipped
 * with is a 404, so the courier delivers it again (the shop may report the shipment late); an order
 * not shipped is a 409. A replay changes nothing: delivered is only reached once.
 */
export function courierWebhookRoute(getDeps: () => Promise<RunDeps>) {
  async function POST(req: Request): Promise<Response> {
    const read = await readSignedEvent(req, getDeps, COURIER_SIGNING, event);
    if (read instanceof Response) return read;
    const { deps } = read;
    const { event: name, trackingNumber } = read.event;
    if (name !== "delivered") return json(200, { ignored: name });
    try {
      const results = await parcelDelivered(deps, { trackingNumber, now: (deps.clock ?? (() => new Date()))() });
      if (!results.length) return json(404, { error: `trackingNumber: no order shipped with ${trackingNumber}`, field: "trackingNumber" });
      const conflicts = results.filter((r) => r.outcome === "conflict");
      for (const r of conflicts) deps.log.warn("commerce.courier.conflict", { orderId: r.order_id, trackingNumber, reason: r.reason });
      if (conflicts.length === results.length) return json(409, { error: conflicts.map((r) => r.reason).join("; "), trackingNumber });
      deps.log.info("commerce.courier.delivered", { trackingNumber, orders: results.length });
      return json(200, { trackingNumber, orders: results.map((r) => ({ orderId: r.order_id, outcome: r.outcome })) });
    } catch (err) {
      deps.log.error("commerce.courier.failed", { trackingNumber, error: describeError(err) });
      return json(500, { error: "the event could not be applied; it will be delivered again" });
    }
  }
  return { POST };
}
