import type { z } from "zod";

export type PayloadResult = { ok: true; value: unknown } | { ok: false; error: string; issues: { path: string; message: string }[] };

/** Parses the raw body (empty means `{}`) with the job's schema; errors name the field. */
export function parsePayload(schema: z.ZodType, raw: string): PayloadResult {
  let data: unknown = {};
  if (raw.trim() !== "") {
    try {
      data = JSON.parse(raw);
    } catch (err) {
      return { ok: false, error: `invalid payload: the body is not JSON (${(err as Error).message})`, issues: [] };
    }
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message }));
  return { ok: false, error: `invalid payload: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, issues };
}
