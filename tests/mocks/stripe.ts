import { http, HttpResponse } from "msw";

/** Stripe's REST API as the SDK talks to it (form-encoded bodies), for tests only. */
export const STRIPE_URL = "https://api.stripe.com";
export const STRIPE_KEY = "sk_test_cronlayer_0123456789abcdef";

/** One request as the job sent it; `body` is the form, flattened (`metadata[payment_id]`). */
export interface StripeCall {
  url: string;
  path: string;
  idempotencyKey: string | null;
  /** The connected account the request acts for (Stripe-Account header). */
  account: string | null;
  body: Record<string, string>;
}

export const stripeError = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ error: { type, message, code: status === 429 ? "rate_limit" : undefined } }, { status, headers });

/**
 * `POST /v1/transfers` and `POST /v1/payouts`: records every request, answers with a transfer or a
 * payout (arriving two days after `payoutArrival` or now). `respond` overrides chosen requests.
 */
export function stripeApi(opts: { base?: string; delayMs?: number; payoutArrival?: Date; respond?: (call: StripeCall, n: number) => Response | undefined } = {}) {
  const calls: StripeCall[] = [];
  const record = async (request: Request): Promise<StripeCall | Response> => {
    const call: StripeCall = {
      url: request.url,
      path: new URL(request.url).pathname,
      idempotencyKey: request.headers.get("idempotency-key"),
      account: request.headers.get("stripe-account"),
      body: Object.fromEntries(new URLSearchParams(await request.text())),
    };
    calls.push(call);
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (request.headers.get("authorization") !== `Bearer ${STRIPE_KEY}`) {
      return stripeError(401, "invalid_request_error", "Invalid API Key provided: sk_test_***");
    }
    return opts.respond?.(call, calls.length) ?? call;
  };
  const base = opts.base ?? STRIPE_URL;
  const handlers = [
    http.post(`${base}/v1/transfers`, async ({ request }) => {
      const c = await record(request);
      if (c instanceof Response) return c;
      return HttpResponse.json({ id: `tr_${calls.length}_${c.body["metadata[payment_id]"]?.slice(0, 8)}`, object: "transfer", amount: Number(c.body.amount), currency: c.body.currency, destination: c.body.destination });
    }),
    http.post(`${base}/v1/payouts`, async ({ request }) => {
      const c = await record(request);
      if (c instanceof Response) return c;
      const arrival = Math.floor(((opts.payoutArrival ?? new Date()).getTime() + 2 * 86_400_000) / 1000);
      return HttpResponse.json({ id: `po_${calls.length}`, object: "payout", amount: Number(c.body.amount), currency: c.body.currency, arrival_date: arrival, status: "in_transit" });
    }),
  ];
  return { calls, handlers };
}
