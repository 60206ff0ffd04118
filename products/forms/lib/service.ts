import type { Db } from "@/lib/db/types";
import type { Env } from "@/lib/env";
import type { Logger } from "@/lib/log";
import type { Registry } from "@/lib/jobs/registry";
import { operatorClient } from "@/lib/qstash/client";
import type { MessageDeps } from "@/lib/qstash/messages";
import { cancelCall, rescheduleCall, scheduleCall } from "./calls";
import type { CreateFormInput } from "./input";

export interface FormDeps {
  env: Env;
  registry: Registry;
  db: Db;
  log: Logger;
  clock?: () => Date;
}

/** A form as the API answers it (times in ISO 8601, UTC). */
export interface Form {
  id: string;
  status: "pending" | "submitted" | "called" | "call_failed";
  title: string;
  deadline: string;
  callMessageId: string | null;
  callId: string | null;
  calledAt: string | null;
  submittedAt: string | null;
  lastError: string | null;
}

type Row = Omit<Form, "deadline" | "calledAt" | "submittedAt"> & { deadline: string; calledAt: string | null; submittedAt: string | null; patientId: string };

const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString());
const formOf = (r: Row): Form => ({
  id: r.id,
  status: r.status,
  title: r.title,
  deadline: iso(r.deadline)!,
  callMessageId: r.callMessageId,
  callId: r.callId,
  calledAt: iso(r.calledAt),
  submittedAt: iso(r.submittedAt),
  lastError: r.lastError,
});

/** QStash with few quick retries: an API caller hears of an outage in about a second. */
const messages = (deps: FormDeps): MessageDeps => ({ env: deps.env, registry: deps.registry, db: deps.db, client: operatorClient(deps.env), clock: deps.clock });

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 404 | 409 | 503; error: string };

/** Stores the form and publishes its call at the deadline. A call that cannot be published takes the form back. */
export async function createForm(deps: FormDeps, input: CreateFormInput, now: Date): Promise<Outcome<Form>> {
  const deadline = new Date(input.deadline);
  const row = await deps.db.rpc<Row>("forms_create", { p_patient: input.patient, p_title: input.title, p_deadline: deadline, p_now: now });
  let messageId: string;
  try {
    messageId = await scheduleCall(messages(deps), row.id, deadline);
  } catch (err) {
    deps.log.error("forms.schedule_failed", { formId: row.id, error: (err as Error).message });
    await deps.db.rpc("forms_discard", { p_form_id: row.id });
    return { ok: false, status: 503, error: `could not schedule the call at the deadline: ${(err as Error).message}. Nothing was created; try again.` };
  }
  return { ok: true, value: formOf(await deps.db.rpc<Row>("forms_set_message", { p_form_id: row.id, p_message_id: messageId, p_now: now })) };
}

export async function getForm(deps: FormDeps, id: string): Promise<Form | undefined> {
  const row = await deps.db.rpc<Row | null>("forms_get", { p_form_id: id });
  return row ? formOf(row) : undefined;
}

/**
 * Moves a pending form's deadline, then cancels its call and publishes the new one. The deadline
 * is saved first, so a call delivered meanwhile finds the form not yet due.
 */
export async function moveDeadline(deps: FormDeps, id: string, deadline: Date, now: Date): Promise<Outcome<Form>> {
  const r = await deps.db.rpc<{ found: boolean; moved?: boolean; form?: Row }>("forms_move_deadline", { p_form_id: id, p_deadline: deadline, p_now: now });
  if (!r.found) return { ok: false, status: 404, error: `id: no form ${id}` };
  if (!r.moved) return { ok: false, status: 409, error: `the form is ${r.form!.status}: only a pending form's deadline can move` };
  try {
    const messageId = await rescheduleCall(messages(deps), id, deadline);
    return { ok: true, value: formOf(await deps.db.rpc<Row>("forms_set_message", { p_form_id: id, p_message_id: messageId, p_now: now })) };
  } catch (err) {
    deps.log.error("forms.reschedule_failed", { formId: id, error: (err as Error).message });
    return {
      ok: false,
      status: 503,
      error: `the deadline is saved, but the call could not be rescheduled: ${(err as Error).message}. Send the PATCH again; check-forms calls the form after its deadline in any case.`,
    };
  }
}

/** Marks the form submitted and cancels its call; a cancel that fails is harmless (call-form reads the form first). */
export async function submitForm(deps: FormDeps, id: string, now: Date): Promise<Outcome<Form & { callCancelled: boolean }>> {
  const r = await deps.db.rpc<{ found: boolean; form?: Row }>("forms_submit", { p_form_id: id, p_now: now });
  if (!r.found) return { ok: false, status: 404, error: `id: no form ${id}` };
  let callCancelled = true;
  try {
    await cancelCall(messages(deps), id);
  } catch (err) {
    callCancelled = false;
    deps.log.warn("forms.cancel_failed", { formId: id, error: (err as Error).message, note: "call-form finds the form submitted and calls no one" });
  }
  return { ok: true, value: { ...formOf(r.form!), callCancelled } };
}
