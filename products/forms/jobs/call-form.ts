import { z } from "zod";
import { NonRetryableError, ProviderError } from "@/lib/errors";
import { CALL_JOB } from "../lib/calls";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { formsProviders, type VoiceCall } from "../providers";

/**
 * QStash delivers at the deadline by its own clock; a server a little behind must still find the
 * form due, or the call would wait for check-forms' next sweep.
 */
const CLOCK_SKEW_MS = 30_000;

interface Due {
  form_id: string;
  title: string;
  deadline: string;
  patient: { id: string; name: string; phone: string };
}

/**
 * The deadline call of one form, published for its deadline (and by check-forms for what that
 * missed). The form is read again at delivery: a submitted form, a deadline moved later, or a
 * call already made mean nothing to do. The call is the effect `call:<form id>`, so overlapping
 * deliveries and retries call once. A failed call fails the delivery, so QStash retries it (a 429
 * after Vapi's Retry-After); a call Vapi refuses for good marks the form call_failed.
 */
export default defineJob({
  name: CALL_JOB,
  description: "Call the patient of a form not submitted by its deadline, once (Vapi voice assistant)",
  payload: z.object({ formId: z.uuid() }),
  timeoutMs: 60_000,
  async handler(ctx) {
    const { db, providers, now, payload } = ctx;
    let lastError: unknown;
    const counts = await runEffects<Due, VoiceCall & { provider: string; phone: string }>(
      // This message carries its own retries (QStash's) and check-forms sweeps what they miss: no
      // retry runs of call-form, whose job-wide failures would each ask for one with this payload.
      { ...ctx, runAgainAt: async () => {} },
      {
        due: ({ after }) => (after ? Promise.resolve([]) : db.rpc<Due[]>("forms_call_due", { p_form_id: payload.formId, p_now: new Date(now.getTime() + CLOCK_SKEW_MS) })),
        key: (f) => `call:${f.form_id}`,
        subject: (f) => f.form_id,
        work: async (f) => {
          try {
            // Asked for here, not up front: a missing key fails only a run that has a call to make.
            const call = await formsProviders.of(providers).voice().call({ customer: { number: f.patient.phone, name: f.patient.name }, key: `call:${f.form_id}` });
            return { ...call, provider: "vapi", phone: f.patient.phone };
          } catch (err) {
            lastError = err;
            throw err;
          }
        },
        // Vapi takes no idempotency key: a call whose answer was lost is looked up by number in the
        // window it can have been placed in (after the deadline), never dialled blindly again.
        reconcile: async (f) => {
          const found = await formsProviders.of(providers).voice().findCall({ number: f.patient.phone, since: new Date(Date.parse(f.deadline) - CLOCK_SKEW_MS), until: new Date(now.getTime() + CLOCK_SKEW_MS), key: `call:${f.form_id}` });
          return found && { ...found, provider: "vapi", phone: f.patient.phone };
        },
        finish: "forms_call_settle",
        // Shorter than QStash's first retry (12 s), so a redelivery finds the call due again.
        backoffMs: 5_000,
      },
    );
    if (counts.abandoned) throw new NonRetryableError(`the call for form ${payload.formId} was refused for good; the form is call_failed: ${reasonOf(lastError)}`);
    if (counts.failed || counts.unknown) {
      const status = lastError instanceof ProviderError ? lastError.status : undefined;
      throw new ProviderError("Vapi", `the call for form ${payload.formId} failed and will be retried: ${reasonOf(lastError)}`, status, { cause: lastError });
    }
    return { called: counts.succeeded, skipped: counts.skipped };
  },
});

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err ?? "out of attempts"));
