import { http, HttpResponse } from "msw";

/** Resend as its API answers (https://resend.com/docs/api-reference/errors), for tests only. */
export const RESEND_URL = "https://api.resend.com";
export const RESEND_KEYS = { full: "re_test_full_access_0123456789", sendingOnly: "re_test_sending_only_0123456789" } as const;

const error = (status: number, name: string, message: string) => HttpResponse.json({ statusCode: status, name, message }, { status });

/** `GET /domains`: a full-access key lists domains, a sending-only key is refused by name, anything else is invalid. */
export function resendDomains(base = RESEND_URL) {
  return http.get(`${base}/domains`, ({ request }) => {
    const auth = request.headers.get("authorization");
    if (!auth) return error(401, "missing_api_key", "Missing API key in the authorization header");
    if (!request.headers.get("user-agent")) return error(403, "forbidden", "error code: 1010");
    if (auth === `Bearer ${RESEND_KEYS.sendingOnly}`) return error(401, "restricted_api_key", "This API key is restricted to only send emails");
    if (auth !== `Bearer ${RESEND_KEYS.full}`) return error(403, "invalid_api_key", "API key is invalid");
    return HttpResponse.json({
      object: "list",
      has_more: false,
      data: [{ id: "d91cd9bd-1176-453e-8fc1-35364d380206", name: "mail.example.test", status: "verified", created_at: "2026-11-01 10:00:00.000000+00", region: "us-east-1" }],
    });
  });
}

/** Resend failing on its side. */
export const resendFailing = (status = 500, base = RESEND_URL) =>
  http.get(`${base}/domains`, () => error(status, "internal_server_error", "An unexpected error occurred"));

/** The connection itself failing (DNS, reset). */
export const resendUnreachable = (base = RESEND_URL) => http.get(`${base}/domains`, () => HttpResponse.error());

export const resendHandlers = [resendDomains()];

/** One `POST /emails` as the job sent it. */
export interface ResendEmailCall {
  url: string;
  idempotencyKey: string | null;
  authorization: string | null;
  body: { from: string; to: string | string[]; subject: string; text: string; html: string; tags?: { name: string; value: string }[] };
}

/**
 * `POST /emails`: records every request, answers like Resend. `respond` overrides the answer for
 * chosen requests (a 500 for one recipient, a 429 with Retry-After); it sees the recorded call.
 */
export function resendEmails(opts: { base?: string; delayMs?: number; respond?: (call: ResendEmailCall, n: number) => Response | undefined } = {}) {
  const calls: ResendEmailCall[] = [];
  const handlers = [
    http.post(`${opts.base ?? RESEND_URL}/emails`, async ({ request }) => {
      const call: ResendEmailCall = {
        url: request.url,
        idempotencyKey: request.headers.get("idempotency-key"),
        authorization: request.headers.get("authorization"),
        body: (await request.json()) as ResendEmailCall["body"],
      };
      calls.push(call);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const auth = call.authorization;
      if (auth !== `Bearer ${RESEND_KEYS.full}` && auth !== `Bearer ${RESEND_KEYS.sendingOnly}`) return error(401, "invalid_api_key", "API key is invalid");
      const custom = opts.respond?.(call, calls.length);
      if (custom) return custom;
      return HttpResponse.json({ id: `email-${calls.length}-${call.idempotencyKey ?? "nokey"}` });
    }),
  ];
  return { calls, handlers };
}

export const resendError = (status: number, name: string, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ statusCode: status, name, message }, { status, headers });
