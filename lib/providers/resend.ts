import { Resend } from "resend";
import { ProviderError } from "../errors";
import { requestSignal, vendorError } from "./errors";
import type { EmailMessage, EmailProvider } from "./types";

export const RESEND_API = "https://api.resend.com";

/** Email through Resend. The SDK never throws: it answers `{ data, error, headers }`. */
export function createResendProvider(cfg: { apiKey: string; baseUrl: string | undefined }, from: string): EmailProvider {
  // The base URL is always passed: the SDK would otherwise read RESEND_BASE_URL from process.env.
  const resend = new Resend(cfg.apiKey, { baseUrl: (cfg.baseUrl ?? RESEND_API).replace(/\/+$/, "") });
  return {
    async send(m: EmailMessage, signal?: AbortSignal) {
      const { data, error, headers } = await resend.emails.send(
        {
          from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          tags: m.tags ? Object.entries(m.tags).map(([name, value]) => ({ name, value: value.replace(/[^A-Za-z0-9_-]/g, "_") })) : undefined,
        },
        { idempotencyKey: m.idempotencyKey, signal: requestSignal(signal) },
      );
      if (error) {
        // A failed connection has no status: the SDK reports it as application_error with statusCode null.
        throw vendorError("Resend", "RESEND_API_KEY", error.statusCode, `${error.name}: ${error.message}`, headers?.["retry-after"]);
      }
      if (!data?.id) throw new ProviderError("Resend", "answered without an email id");
      return { id: data.id };
    },
  };
}
