import { http, HttpResponse } from "msw";

/** Stripe's REST API as the SDK talks to it (form-encoded bodies), for tests only. */
export const STRIPE_URL = "https://api.stripe.com";
export const STRIPE_KEY = "sk_test_cronlayer_0123456789abcdef";

/** One request as the job sent it; `body` is the form (or the query of a GET), flattened (`metadata[payment_id]`). */
export interface StripeCall {
  url: string;
  path: string;
  idempotencyKey: string | null;
  /** The connected account the request acts for (Stripe-Account header). */
  account: string | null;
  body: Record<string, string>;
}

/** A transfer or a payout the mock made, as Stripe keeps it. */
export interface StripeObject {
  id: string;
  object: "transfer" | "payout";
  /** The account it lives on: null for the platform's transfers, the connected account for payouts. */
  account: string | null;
  /** Epoch seconds, on the mock's clock. */
  created: number;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  destination?: string;
  transfer_group?: string | null;
  arrival_date?: number;
  status?: string;
}

export const stripeError = (status: number, type: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ error: { type, message, code: status === 429 ? "rate_limit" : undefined } }, { status, headers });

/** Stripe forgets an idempotency key 24 hours after its first request; a later request with it makes a new object. */
const IDEMPOTENCY_MS = 24 * 3_600_000;

export interface StripeApiOptions {
  base?: string;
  delayMs?: number;
  /** Payouts arrive two days after this (default: the mock's clock). */
  payoutArrival?: Date;
  /** Answers a create request (`n`: its number among them) instead of the mock: nothing is made. */
  respond?: (call: StripeCall, n: number) => Response | undefined;
  /** Answers a list request instead of the mock. */
  respondRead?: (call: StripeCall) => Response | undefined;
  /** Makes the object, then loses the answer: a 500, or a dropped connection (`network`). */
  loseResponse?: (call: StripeCall, n: number) => "500" | "network" | undefined;
  /** The mock's clock: `created` of each object and the life of idempotency keys. Default: the real time. */
  now?: () => Date;
}

/**
 * Stateful Stripe: `POST /v1/transfers` and `POST /v1/payouts` make objects (honouring
 * Idempotency-Key for 24 hours of the mock's clock, per account), `GET /v1/transfers` and
 * `GET /v1/payouts` list them as Stripe does (newest first, `limit`, `starting_after`, `has_more`).
 * `calls` records every create request, `reads` every list request; `transfers` and `payouts`
 * hold what was made: count effects there.
 */
export function stripeApi(opts: StripeApiOptions = {}) {
  const now = () => (opts.now ? opts.now() : new Date());
  const calls: StripeCall[] = [];
  const reads: StripeCall[] = [];
  const transfers: StripeObject[] = [];
  const payouts: StripeObject[] = [];
  const keys = new Map<string, { at: number; object: StripeObject }>();

  const callOf = async (request: Request): Promise<StripeCall> => {
    const url = new URL(request.url);
    return {
      url: request.url,
      path: url.pathname,
      idempotencyKey: request.headers.get("idempotency-key"),
      account: request.headers.get("stripe-account"),
      body: Object.fromEntries(request.method === "GET" ? url.searchParams : new URLSearchParams(await request.text())),
    };
  };
  const gate = async (request: Request): Promise<Response | undefined> => {
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    if (request.headers.get("authorization") !== `Bearer ${STRIPE_KEY}`) {
      return stripeError(401, "invalid_request_error", "Invalid API Key provided: sk_test_***");
    }
    return undefined;
  };

  const create = (store: StripeObject[], make: (c: StripeCall, created: number) => StripeObject) => async ({ request }: { request: Request }) => {
    const c = await callOf(request);
    calls.push(c);
    const n = calls.length;
    const early = (await gate(request)) ?? opts.respond?.(c, n);
    if (early) return early;
    const at = now().getTime();
    const scope = `${c.account ?? ""}|${c.idempotencyKey}`;
    const seen = c.idempotencyKey ? keys.get(scope) : undefined;
    if (seen && at - seen.at < IDEMPOTENCY_MS) return HttpResponse.json(seen.object, { headers: { "idempotent-replayed": "true" } });
    const object = make(c, Math.floor(at / 1000));
    store.push(object);
    if (c.idempotencyKey) keys.set(scope, { at, object });
    const lost = opts.loseResponse?.(c, n);
    if (lost === "network") return HttpResponse.error();
    if (lost === "500") return stripeError(500, "api_error", "An unknown error occurred");
    return HttpResponse.json(object);
  };

  const list = (store: StripeObject[], filter: (o: StripeObject, q: Record<string, string>, account: string | null) => boolean) => async ({ request }: { request: Request }) => {
    const c = await callOf(request);
    reads.push(c);
    const early = (await gate(request)) ?? opts.respondRead?.(c);
    if (early) return early;
    const q = c.body;
    const gte = q["created[gte]"] === undefined ? undefined : Number(q["created[gte]"]);
    let all = [...store].reverse().filter((o) => o.account === c.account && (gte === undefined || o.created >= gte) && filter(o, q, c.account));
    if (q.starting_after) all = all.slice(all.findIndex((o) => o.id === q.starting_after) + 1);
    const limit = Number(q.limit ?? 10);
    return HttpResponse.json({ object: "list", data: all.slice(0, limit), has_more: all.length > limit, url: c.path });
  };

  const metadataOf = (body: Record<string, string>) =>
    Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (k.startsWith("metadata[") ? [[k.slice(9, -1), v]] : [])));

  const base = opts.base ?? STRIPE_URL;
  const handlers = [
    http.post(
      `${base}/v1/transfers`,
      create(transfers, (c, created) => ({
        id: `tr_${transfers.length + 1}_${c.body["metadata[payment_id]"]?.slice(0, 8)}`,
        object: "transfer",
        account: c.account,
        created,
        amount: Number(c.body.amount),
        currency: c.body.currency!,
        destination: c.body.destination,
        transfer_group: c.body.transfer_group ?? null,
        metadata: metadataOf(c.body),
      })),
    ),
    http.post(
      `${base}/v1/payouts`,
      create(payouts, (c, created) => ({
        id: `po_${payouts.length + 1}`,
        object: "payout",
        account: c.account,
        created,
        amount: Number(c.body.amount),
        currency: c.body.currency!,
        arrival_date: Math.floor(((opts.payoutArrival ?? now()).getTime() + 2 * 86_400_000) / 1000),
        status: "in_transit",
        metadata: metadataOf(c.body),
      })),
    ),
    http.get(`${base}/v1/transfers`, list(transfers, (o, q) => q.transfer_group === undefined || o.transfer_group === q.transfer_group)),
    http.get(`${base}/v1/payouts`, list(payouts, () => true)),
  ];
  return { calls, reads, transfers, payouts, handlers };
}
