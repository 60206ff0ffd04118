import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";

/** Vapi's call API as it answers, for tests only (`POST /call`, Bearer private key). */
export const VAPI_URL = "https://api.vapi.ai";
export const VAPI_ENV = {
  VAPI_API_KEY: "vapi_test_private_key_0123456789",
  VAPI_ASSISTANT_ID: "5b0a4a08-133c-4146-9315-0984f8c6be80",
  VAPI_PHONE_NUMBER_ID: "8f3c1e0a-2d44-4b8e-9f6a-1c2d3e4f5a6b",
} as const;

/** One `POST /call` as the app sent it. */
export interface VapiCall {
  authorization: string | null;
  body: { assistantId: string; phoneNumberId: string; customer: { number: string; name?: string } };
}

const PLACED = "x-test-call-placed";

const error = (status: number, message: string | string[], error: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ message, error, statusCode: status }, { status, headers });

/** Vapi's answers to a call it will not place or cannot take now. */
export const vapiAnswers = {
  rateLimited: (retryAfterSeconds: number) => error(429, "Too Many Requests", "Too Many Requests", { "retry-after": String(retryAfterSeconds) }),
  serverError: () => error(500, "Internal server error", "Internal Server Error"),
  /** A 5xx after the call was placed: the caller cannot tell it from one that placed nothing. */
  serverErrorAfterPlacing: () => error(502, "Bad Gateway", "Bad Gateway", { [PLACED]: "1" }),
  invalidNumber: () => error(400, ["customer.number must be a valid phone number in the E.164 format. Hot tip, you may be missing the country code (Eg. US: +1)."], "Bad Request"),
};

/**
 * Records every call request and counts them per customer number, answering 201 with a queued
 * call as Vapi does, unless `respond` says otherwise for a request (it sees the recorded call and
 * the number of requests so far for the same number).
 */
export function vapiCalls(opts: { base?: string; delayMs?: number; respond?: (call: VapiCall, nForNumber: number) => Response | undefined; now?: () => number } = {}) {
  const calls: VapiCall[] = [];
  const perNumber = new Map<string, number>();
  /** The calls Vapi placed (answered or not), as its `GET /call` lists them. */
  const placed: { id: string; status: string; customer: { number: string }; createdAt: string }[] = [];
  const handlers = [
    http.post(`${opts.base ?? VAPI_URL}/call`, async ({ request }) => {
      const call: VapiCall = { authorization: request.headers.get("authorization"), body: (await request.json()) as VapiCall["body"] };
      calls.push(call);
      const number = call.body.customer?.number ?? "";
      const n = (perNumber.get(number) ?? 0) + 1;
      perNumber.set(number, n);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (call.authorization !== `Bearer ${VAPI_ENV.VAPI_API_KEY}`) return error(401, "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.", "Unauthorized");
      const custom = opts.respond?.(call, n);
      // Vapi stamps a call with its own clock: the test's, where the test moves time.
      const now = new Date(opts.now?.() ?? Date.now()).toISOString();
      const id = randomUUID();
      if (custom) {
        if (custom.headers.get(PLACED)) placed.push({ id, status: "queued", customer: call.body.customer, createdAt: now });
        return custom;
      }
      placed.push({ id, status: "queued", customer: call.body.customer, createdAt: now });
      return HttpResponse.json(
        { id, orgId: "org_test", type: "outboundPhoneCall", status: "queued", assistantId: call.body.assistantId, phoneNumberId: call.body.phoneNumberId, customer: call.body.customer, createdAt: now, updatedAt: now },
        { status: 201 },
      );
    }),
    http.get(`${opts.base ?? VAPI_URL}/call`, ({ request }) => {
      if (request.headers.get("authorization") !== `Bearer ${VAPI_ENV.VAPI_API_KEY}`) return error(401, "Invalid Key", "Unauthorized");
      const q = new URL(request.url).searchParams;
      const ge = Date.parse(q.get("createdAtGe") ?? "1970-01-01T00:00:00Z");
      const le = Date.parse(q.get("createdAtLe") ?? "9999-01-01T00:00:00Z");
      return HttpResponse.json(placed.filter((c) => Date.parse(c.createdAt) >= ge && Date.parse(c.createdAt) <= le));
    }),
  ];
  return { calls, placed, handlers, callsTo: (number: string) => perNumber.get(number) ?? 0, numbers: () => new Map(perNumber) };
}
