import { z } from "zod";
import { describeError } from "@/lib/errors";
import { apiKeyRefusal } from "@/lib/http/bearer-guard";
import { refuseMisconfigured } from "@/lib/http/misconfigured";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";
import { COMMERCE_API, commerceEnv } from "../env";
import { reportOrderStatus, REPORTED_STATUSES } from "../lib/order-status";

const body = z
  .object({
    status: z.enum(REPORTED_STATUSES, { error: `must be one of ${REPORTED_STATUSES.join(", ")} (confirmed follows the payment: Razorpay's webhook)` }),
    trackingNumber: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
  .refine((b) => b.status !== "shipped" || b.trackingNumber, { path: ["trackingNumber"], message: "is required when the status is shipped" });

type Ctx = { params: Promise<{ id: string }> };

/**
 * `POST /api/commerce/orders/:id/status` `{ status, trackingNumber? }`: the shop reports an order's
 * change (placed at checkout; shipped, cancelled, return_approved by an admin or the customer;
 * delivered by hand when the courier does not call). 200 with `changed` or `already` (a repeat, which
 * changes and sends nothing new), 409 for a move impossible from where the order is, 404 for no such
 * order. Each accepted change publishes its notification and email (once per order and status).
 */
export function orderStatusRoute(getDeps: () => Promise<RunDeps>) {
  async function POST(req: Request, ctx: Ctx): Promise<Response> {
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    const refused = apiKeyRefusal(req, COMMERCE_API, commerceEnv.of(deps.env).apiKey, deps.env.cronSecret, (problem) => deps.log.error("commerce.api_closed", { problem }));
    if (refused) return refused;
    const id = (await ctx.params).id;
    if (!z.uuid().safeParse(id).success) return json(400, { error: "id: must be the order's UUID", field: "id" });
    let raw: unknown;
    try {
      raw = JSON.parse(await req.text());
    } catch {
      return json(400, { error: 'the body is not JSON: send { "status": "shipped", "trackingNumber": "..." }' });
    }
    const parsed = body.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join(".") || "body";
      return json(400, { error: `${field}: ${issue.message}`, field });
    }
    const { status, trackingNumber } = parsed.data;
    try {
      const r = await reportOrderStatus(deps, { orderId: id, status, trackingNumber, now: (deps.clock ?? (() => new Date()))() });
      if (r.outcome === "unknown_order") return json(404, { error: `id: no order ${id}`, field: "id" });
      if (r.outcome === "conflict") return json(409, { error: r.reason, orderId: id, status: r.order_status });
      deps.log.info("commerce.order.status", { orderId: id, status, outcome: r.outcome });
      return json(200, { orderId: id, status: r.order_status, outcome: r.outcome });
    } catch (err) {
      deps.log.error("commerce.order.status_failed", { orderId: id, status, error: describeError(err) });
      return json(500, { error: "the change could not be applied or its email published; send it again (a repeat is safe)" });
    }
  }
  return { POST };
}
