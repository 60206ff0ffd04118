import { http, HttpResponse } from "msw";

/** Novu as its API answers, for tests only. Keys travel as `Authorization: ApiKey <key>`. */
export const NOVU_URL = "https://api.novu.co";
export const NOVU_KEY = "novu_test_key_0123456789abcdef";

/** `GET /v1/environments/me`: the environment the key belongs to. */
export function novuEnvironment(base = NOVU_URL) {
  return http.get(`${base}/v1/environments/me`, ({ request }) => {
    if (request.headers.get("authorization") !== `ApiKey ${NOVU_KEY}`) {
      return HttpResponse.json({ statusCode: 401, message: "API Key not found", error: "Unauthorized" }, { status: 401 });
    }
    return HttpResponse.json({
      data: { _id: "66f1c0ffee0000000000a001", name: "Development", identifier: "dev_env_identifier", _organizationId: "66f1c0ffee0000000000b001" },
    });
  });
}

export const novuFailing = (status = 503, base = NOVU_URL) =>
  http.get(`${base}/v1/environments/me`, () => HttpResponse.json({ statusCode: status, message: "Service Unavailable" }, { status }));

export const novuHandlers = [novuEnvironment()];

/** One `POST /v1/events/trigger` as the job sent it. */
export interface NovuTriggerCall {
  url: string;
  idempotencyKey: string | null;
  authorization: string | null;
  body: { name: string; to: { subscriberId: string; email?: string; firstName?: string }; payload: Record<string, unknown>; transactionId?: string };
}

/** `POST /v1/events/trigger`: records every request and acknowledges it, unless `respond` says otherwise. */
export function novuTriggers(opts: { base?: string; delayMs?: number; respond?: (call: NovuTriggerCall, n: number) => Response | undefined } = {}) {
  const calls: NovuTriggerCall[] = [];
  const handlers = [
    http.post(`${opts.base ?? NOVU_URL}/v1/events/trigger`, async ({ request }) => {
      const call: NovuTriggerCall = {
        url: request.url,
        idempotencyKey: request.headers.get("idempotency-key"),
        authorization: request.headers.get("authorization"),
        body: (await request.json()) as NovuTriggerCall["body"],
      };
      calls.push(call);
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (call.authorization !== `ApiKey ${NOVU_KEY}`) {
        return HttpResponse.json({ statusCode: 401, message: "API Key not found", error: "Unauthorized" }, { status: 401 });
      }
      const custom = opts.respond?.(call, calls.length);
      if (custom) return custom;
      return HttpResponse.json({ data: { acknowledged: true, status: "processed", transactionId: call.body.transactionId } }, { status: 201 });
    }),
  ];
  return { calls, handlers };
}
