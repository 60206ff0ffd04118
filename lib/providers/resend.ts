import { Resend } from "resend";
import { ProviderError } from "../errors";
import { requestSignal, vendorError } from "./errors";
import { EMAIL_BATCH_MAX, type EmailBatchAnswer, type EmailMessage, type EmailProvider } from "./types";

export const RESEND_API = "https://api.resend.com";

type Body = Omit<EmailMessage, "idempotencyKey">;

const tagsOf = (tags: Body["tags"]) => (tags ? Object.entries(tags).map(([name, value]) => ({ name, value: value.replace(/[^A-Za-z0-9_-]/g, "_") })) : undefined);

/** Email through Resend. The SDK never throws: it answers `{ data, error, headers }`. */
export function createResendProvider(cfg: { apiKey: string; baseUrl: string | undefined }, from: string): EmailProvider {
  // The base URL is always passed: the SDK would otherwise read RESEND_BASE_URL from process.env.
  const resend = new Resend(cfg.apiKey, { baseUrl: (cfg.baseUrl ?? RESEND_API).replace(/\/+$/, "") });
  const payload = (m: Body) => ({ from, to: m.to, subject: m.subject, text: m.text, html: m.html, tags: tagsOf(m.tags) });
  return {
    async send(m: EmailMessage, signal?: AbortSignal) {
      const { data, error, headers } = await resend.emails.send(payload(m), { idempotencyKey: m.idempotencyKey, signal: requestSignal(signal) });
      if (error) {
        // A failed connection has no status: the SDK reports it as application_error with statusCode null.
        throw vendorError("Resend", "RESEND_API_KEY", error.statusCode, `${error.name}: ${error.message}`, headers?.["retry-after"]);
      }
      if (!data?.id) throw new ProviderError("Resend", "answered without an email id");
      return { id: data.id };
    },

    /**
     * `POST /emails/batch` in permissive mode: an email Resend refuses (a malformed address) comes
     * back in `errors` by index and the others are sent; in strict mode (the default) one bad
     * address would hold back the other 99 on every retry. `data` lists the ids of the accepted
     * emails in the request's order, so the i-th id belongs to the i-th email not in `errors`.
     * Ids missing from a short answer leave their emails unknown; an answer with more ids than
     * emails cannot be matched at all and leaves every email unknown.
     */
    async sendBatch(batch, signal) {
      if (batch.emails.length === 0) return [];
      if (batch.emails.length > EMAIL_BATCH_MAX) throw new Error(`a Resend batch takes at most ${EMAIL_BATCH_MAX} emails, got ${batch.emails.length}: split it`);
      const { data, error, headers } = await resend.batch.send(batch.emails.map(payload), {
        idempotencyKey: batch.idempotencyKey,
        batchValidation: "permissive",
        signal: requestSignal(signal),
      });
      if (error) throw vendorError("Resend", "RESEND_API_KEY", error.statusCode, `${error.name}: ${error.message}`, headers?.["retry-after"]);
      const ids = Array.isArray(data?.data) ? data.data : undefined;
      const errors = Array.isArray(data?.errors) ? data.errors : [];
      if (!ids) throw new ProviderError("Resend", "answered a batch without its list of ids");
      return alignBatchAnswer(batch.emails.length, ids, errors);
    },
  };
}

/** The answer per email from Resend's `data` (accepted ones, in order) and `errors` (by index). */
export function alignBatchAnswer(n: number, ids: { id?: unknown }[], errors: { index?: unknown; message?: unknown }[]): EmailBatchAnswer {
  const out: EmailBatchAnswer = new Array(n).fill(undefined);
  for (const e of errors) if (typeof e.index === "number" && e.index >= 0 && e.index < n) out[e.index] = { rejected: String(e.message ?? "rejected") };
  const accepted = out.flatMap((x, i) => (x === undefined ? [i] : []));
  if (ids.length > accepted.length) throw new ProviderError("Resend", `answered ${ids.length} ids for ${accepted.length} accepted emails: cannot tell which is which`);
  ids.forEach((x, j) => {
    if (typeof x.id === "string" && x.id) out[accepted[j]!] = { id: x.id };
  });
  return out;
}
