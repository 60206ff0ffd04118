import { http, HttpResponse } from "msw";

/** Razorpay's payments API (GET /v1/payments/:id) as it answers, for tests only. */
export const RAZORPAY_URL = "https://api.razorpay.com";
export const RAZORPAY_KEYS = { id: "rzp_test_cronlayer01", secret: "rzp_test_secret_0123456789" } as const;
export const RAZORPAY_ENV = { RAZORPAY_KEY_ID: RAZORPAY_KEYS.id, RAZORPAY_KEY_SECRET: RAZORPAY_KEYS.secret };

export type RazorpayStatus = "created" | "authorized" | "captured" | "refunded" | "failed";

export interface RazorpayCall {
  id: string;
  authorization: string | null;
}

export const razorpayError = (status: number, code: string, description: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ error: { code, description, source: "NA", step: "NA", reason: "NA" } }, { status, headers });

/**
 * Records every fetch and answers each payment with the status set in `payments` (amount as
 * given, else 250000, what tests/support/commerce.ts charges by default); an unknown id is Razorpay's 400 BAD_REQUEST_ERROR. `respond` overrides the
 * answer for chosen calls (a 500, a 429 with Retry-After).
 */
export function razorpayPayments(
  opts: {
    payments?: Record<string, RazorpayStatus | { status: RazorpayStatus; amount?: number; orderId?: string }>;
    delayMs?: number;
    respond?: (call: RazorpayCall, n: number) => Response | undefined;
  } = {},
) {
  const calls: RazorpayCall[] = [];
  const payments = opts.payments ?? {};
  const handlers = [
    http.get(`${RAZORPAY_URL}/v1/payments/:id`, async ({ request, params }) => {
      const call = { id: String(params.id), authorization: request.headers.get("authorization") };
      calls.push(call);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const expected = `Basic ${Buffer.from(`${RAZORPAY_KEYS.id}:${RAZORPAY_KEYS.secret}`).toString("base64")}`;
      if (call.authorization !== expected) return razorpayError(401, "BAD_REQUEST_ERROR", "The api key provided is invalid");
      const custom = opts.respond?.(call, calls.length);
      if (custom) return custom;
      const p = payments[call.id];
      if (!p) return razorpayError(400, "BAD_REQUEST_ERROR", "The id provided does not exist");
      const { status, amount, orderId } = typeof p === "string" ? { status: p, amount: undefined, orderId: undefined } : p;
      return HttpResponse.json({
        id: call.id,
        entity: "payment",
        amount: amount ?? 250_000,
        currency: "INR",
        status,
        order_id: orderId ?? null,
        method: "card",
        captured: status === "captured" || status === "refunded",
        created_at: 1_500_000_000,
      });
    }),
  ];
  return { calls, handlers, fetchesOf: (id: string) => calls.filter((c) => c.id === id).length };
}
