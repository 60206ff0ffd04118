import type { z } from "zod";

/**
 * The payload of a console "Run now": the field's JSON checked by the job's own schema, as a
 * delivery's body is. An empty field is the empty payload `{}`, what a schedule sends.
 */
export function runNowPayload(schema: z.ZodType, text: string): { ok: true; data: unknown } | { ok: false; error: string } {
  let raw: unknown = {};
  if (text !== "") {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return { ok: false, error: `not JSON: ${(err as Error).message}` };
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(payload)"}: ${i.message}`);
  return { ok: false, error: `${text === "" ? "this job needs a payload; " : ""}${issues.join("; ")}` };
}

/** The text is kept up to this length in the URL back to the form; longer, the person pastes it again. */
const KEPT = 4000;

/** Back to the form with the typed payload and the schema's complaint beside it. */
export function refusedPayload(jobPage: string, text: string, error: string): { location: string; ok: false; notice: string } {
  const kept = text.length <= KEPT ? text : "";
  const why = text.length <= KEPT ? error : `${error} (the payload, ${text.length} characters, is too long to keep here: paste it again)`;
  const q = new URLSearchParams({ confirm: "run", payload: kept, payload_error: why });
  return { location: `${jobPage}?${q.toString()}#run-now`, ok: false, notice: `payload refused: ${why}` };
}
