import { z } from "zod";
import { describeError } from "@/lib/errors";
import { refuseMisconfigured } from "@/lib/http/misconfigured";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";
import { commerceEnv } from "../env";
import { verifyCourierSignature } from "../lib/courier-signature";
import { parcelDelivered } from "../lib/order-status";

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
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    const secret = commerceEnv.of(deps.env).courierWebhookSecret;
    if (!secret) {
      deps.log.error("commerce.courier.unconfigured", { hint: "set COURIER_WEBHOOK_SECRET" });
      return json(503, { error: "COURIER_WEBHOOK_SECRET is not set: courier events are refused until it is (the secret the courier signs X-Courier-Signature with)" });
    }
    const raw = await req.text();
    if (!verifyCourierSignature(raw, req.headers.get("x-courier-signature"), secret)) {
      deps.log.warn("commerce.courier.rejected", { reason: "invalid X-Courier-Signature" });
      return json(401, { error: "invalid X-Courier-Signature: hex HMAC-SHA256 of the raw body with COURIER_WEBHOOK_SECRET" });
    }
    let parsed;
    try {
      parsed = event.safeParse(JSON.parse(raw));
    } catch {
      return json(400, { error: "the body is not JSON" });
    }
    if (!parsed.success) return json(400, { error: `invalid event: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` });
    const { event: name, trackingNumber } = parsed.data;
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
