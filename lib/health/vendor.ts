import type { Finding, HealthContext } from "./types";

export interface Probe {
  vendor: string;
  /** The variable that holds the key, named in every message about it. */
  keyVar: string;
  baseVar: string;
  url: string;
  authorization: string;
  /** A 4xx that still proves the key is valid (Resend's sending-only keys). */
  accepted?: (status: number, body: VendorError) => string | undefined;
}

export interface VendorError {
  name?: string;
  message?: string;
}

/**
 * One authenticated GET that changes nothing, to tell a rejected key from an outage from a typo
 * in the base URL. Network errors are thrown: `runCheck` reports them with the component's advice.
 */
export async function probe(ctx: HealthContext, p: Probe): Promise<Finding> {
  const res = await ctx.fetch(p.url, {
    method: "GET",
    // Resend rejects requests without a User-Agent (403, error 1010).
    headers: { authorization: p.authorization, accept: "application/json", "user-agent": "cronlayer-diagnostics" },
    signal: ctx.signal,
    cache: "no-store",
  });
  const body = await readError(res);
  const why = body.message ? `: ${body.message}` : "";
  const where = new URL(p.url).origin;
  if (res.ok) return { status: "ok", message: `${p.vendor} accepted the key (GET ${new URL(p.url).pathname}: HTTP ${res.status})` };
  const accepted = p.accepted?.(res.status, body);
  if (accepted) return { status: "ok", message: accepted };
  if (res.status === 401 || res.status === 403) {
    return { status: "down", message: `${p.keyVar} rejected by ${where} (HTTP ${res.status}${why}): key rejected. Create a new key in the ${p.vendor} dashboard and set ${p.keyVar}.` };
  }
  if (res.status === 429) return { status: "degraded", message: `${p.vendor} is rate-limiting this key (HTTP 429${why}); sends may be delayed.` };
  if (res.status >= 500) return { status: "down", message: `${p.vendor} at ${where} is failing (HTTP ${res.status}${why}); check the vendor's status page.` };
  return { status: "down", message: `${p.vendor} at ${where} answered HTTP ${res.status}${why}: check ${p.baseVar} (${p.url}).` };
}

async function readError(res: Response): Promise<VendorError> {
  // Read even a success to the end: an unread body holds its connection until garbage collection.
  const text = await res.text().catch(() => "");
  if (res.ok) return {};
  try {
    const json = JSON.parse(text) as { name?: unknown; message?: unknown; error?: unknown };
    const message = typeof json.message === "string" ? json.message : typeof json.error === "string" ? json.error : undefined;
    return { name: typeof json.name === "string" ? json.name : undefined, message };
  } catch {
    return { message: text.slice(0, 200) || undefined };
  }
}

export const baseOf = (configured: string | undefined, fallback: string) => (configured ?? fallback).replace(/\/+$/, "");
