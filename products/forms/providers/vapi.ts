import { NonRetryableError, ProviderError } from "@/lib/errors";
import { requestSignal, vendorError } from "@/lib/providers/errors";
import type { VoiceCall, VoiceProvider } from "./types";

export const VAPI_API = "https://api.vapi.ai";

/**
 * Outbound phone calls through Vapi's REST API (`POST /call`): one request, so plain fetch rather
 * than an SDK. Vapi takes no idempotency key: the caller claims the call as an effect first.
 */
export function createVapiProvider(cfg: { apiKey: string; assistantId: string; phoneNumberId: string; baseUrl: string | undefined }): VoiceProvider {
  const url = `${(cfg.baseUrl ?? VAPI_API).replace(/\/+$/, "")}/call`;
  const authorization = `Bearer ${cfg.apiKey}`;
  return {
    /**
     * Vapi keeps no idempotency key, but lists the calls of an assistant and phone number by
     * creation time (`GET /call`): a call to the same number from them in the window is ours.
     */
    async findCall(q, signal): Promise<VoiceCall | undefined> {
      const query = new URLSearchParams({ assistantId: cfg.assistantId, phoneNumberId: cfg.phoneNumberId, createdAtGe: q.since.toISOString(), createdAtLe: q.until.toISOString(), limit: "100" });
      let res: Response;
      try {
        res = await fetch(`${url}?${query}`, { headers: { authorization }, signal: requestSignal(signal, 20_000) });
      } catch (err) {
        throw vendorError("Vapi", "VAPI_API_KEY", undefined, (err as Error).message, undefined, err);
      }
      const text = await res.text().catch(() => "");
      if (!res.ok) throw vendorError("Vapi", "VAPI_API_KEY", res.status, messageOf(text) || res.statusText, res.headers.get("retry-after"));
      const calls = parse(text);
      if (!Array.isArray(calls)) throw new ProviderError("Vapi", `HTTP ${res.status}: the call list is not a list`, res.status);
      const ours = (calls as { id?: unknown; status?: unknown; customer?: { number?: unknown } }[]).find((c) => c.customer?.number === q.number && typeof c.id === "string");
      return ours ? { id: ours.id as string, status: typeof ours.status === "string" ? ours.status : "queued" } : undefined;
    },
    async call({ customer }, signal): Promise<VoiceCall> {
      // A call is not started for a run that has already stopped.
      signal?.throwIfAborted();
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: JSON.stringify({ assistantId: cfg.assistantId, phoneNumberId: cfg.phoneNumberId, customer }),
          signal: requestSignal(signal, 20_000),
        });
      } catch (err) {
        throw vendorError("Vapi", "VAPI_API_KEY", undefined, (err as Error).message, undefined, err);
      }
      const text = await res.text().catch(() => "");
      if (res.ok) {
        const body = parse(text) as { id?: unknown; status?: unknown } | undefined;
        if (typeof body?.id !== "string") throw new ProviderError("Vapi", `HTTP ${res.status} without a call id`, res.status);
        return { id: body.id, status: typeof body.status === "string" ? body.status : "queued" };
      }
      const reason = messageOf(text) || res.statusText;
      // Vapi validates the request before dialling: a 400 (a number it will not call, a bad
      // assistant id) fails the same way on every retry.
      if (res.status === 400) throw new NonRetryableError(`Vapi refused the call to ${customer.number} (HTTP 400: ${reason})`);
      throw vendorError("Vapi", "VAPI_API_KEY", res.status, reason, res.headers.get("retry-after"));
    },
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Vapi's errors are NestJS-shaped: `{ message: string | string[], error, statusCode }`. */
function messageOf(text: string): string {
  const body = parse(text) as { message?: unknown; error?: unknown } | undefined;
  const m = body?.message;
  if (Array.isArray(m)) return m.map(String).join("; ").slice(0, 300);
  if (typeof m === "string") return m.slice(0, 300);
  return text.slice(0, 300);
}
