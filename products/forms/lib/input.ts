import { IANAZone } from "luxon";
import { z } from "zod";

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
/** QStash's longest delay (pay-as-you-go); the free plan allows 7 days and refuses more at publish. */
const MAX_AHEAD_MS = 365 * 86_400_000;

const required = (what: string) => (iss: { input: unknown }) => (iss.input === undefined ? `is required: ${what}` : `must be ${what}`);

const deadline = z.iso.datetime({ offset: true, error: required("an ISO 8601 date-time with a zone, e.g. 2026-12-01T09:00:00Z") });

export const CreateFormInput = z.object({
  patient: z.object(
    {
      name: z.string({ error: required("a string") }).trim().min(1, "must not be empty").max(200),
      phone: z.string({ error: required("a phone number in E.164 format, e.g. +14155550123") }).regex(E164, "must be a phone number in E.164 format, e.g. +14155550123"),
      zone: z
        .string()
        .refine((z) => IANAZone.isValidZone(z), "must be an IANA time zone, e.g. Europe/Berlin")
        .optional(),
    },
    { error: required("an object { name, phone, zone? }") },
  ),
  title: z.string({ error: required("a string") }).trim().min(1, "must not be empty").max(300),
  deadline,
});
export type CreateFormInput = z.output<typeof CreateFormInput>;

export const MoveDeadlineInput = z.object({ deadline });

export const FormId = z.uuid({ error: "must be a form id (a UUID)" });

export interface InputError {
  error: string;
  /** The first field at fault, as a dotted path (`patient.phone`). */
  field: string;
  issues: { field: string; message: string }[];
}

/** Parses with a schema; the error names every field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): { ok: true; value: z.output<S> } | ({ ok: false } & InputError) {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message }));
  return { ok: false, error: issues.map((i) => `${i.field}: ${i.message}`).join("; "), field: issues[0]!.field, issues };
}

/** A deadline the call can still be published for: after now, within QStash's longest delay. */
export function deadlineProblem(at: Date, now: Date): InputError | undefined {
  const message =
    at.getTime() <= now.getTime()
      ? `must be in the future (it is ${at.toISOString()}, now is ${now.toISOString()})`
      : at.getTime() - now.getTime() > MAX_AHEAD_MS
        ? "must be within 365 days (QStash's longest delay)"
        : undefined;
  return message ? { error: `deadline: ${message}`, field: "deadline", issues: [{ field: "deadline", message }] } : undefined;
}
