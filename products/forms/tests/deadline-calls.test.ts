import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { server } from "../../../tests/mocks/server";
import { vapiCalls, VAPI_ENV } from "../../../tests/mocks/vapi";
import { sql } from "../../../tests/support/app";
import { startFormsApp, uniquePhone, type FormsApp } from "./support";

/**
 * Forms through the real routes: the API publishes the deadline call to the local QStash server
 * (manual clock), which delivers it to call-form, which calls the Vapi mock. Calls are counted
 * at the mock, per number.
 */
let app: FormsApp;
let vapi: ReturnType<typeof vapiCalls>;
beforeEach(async () => {
  app = await startFormsApp();
  vapi = vapiCalls();
  server.use(...vapi.handlers);
});
afterEach(async () => {
  await app.close();
});

/** A whole second `h` hours after the QStash clock's now (QStash counts whole seconds). */
const inHours = (h: number) => new Date(Math.floor(app.rig.clock.now() / 1000) * 1000 + h * 3_600_000);

async function createForm(deadline: Date, phone = uniquePhone()) {
  const res = await app.api("POST", "/api/forms", { patient: { name: "Ada Lovelace", phone, zone: "Europe/London" }, title: "Pre-visit questionnaire", deadline: deadline.toISOString() });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, phone, messageId: res.body.callMessageId as string };
}

const calls = (formId: string) => sql()<{ call_id: string; phone: string }[]>`select call_id, phone from calls where form_id = ${formId}`;

describe("a form's deadline call", () => {
  it("is called once, at the deadline, and the form records the call", async () => {
    const deadline = inHours(2);
    const form = await createForm(deadline);
    expect(await app.rig.client.messages.get(form.messageId)).toMatchObject({ notBefore: deadline.getTime(), failureCallback: `${app.url}/api/jobs/failed` });
    expect(app.rig.server.state.dedup[`id:call-form:${form.id}:${deadline.toISOString()}`]?.messageId).toBe(form.messageId);

    await app.rig.clock.advanceTo(deadline.getTime() - 1000);
    expect(vapi.callsTo(form.phone)).toBe(0);
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(form.phone)).toBe(1);
    expect(vapi.calls[0]!.body).toEqual({ assistantId: VAPI_ENV.VAPI_ASSISTANT_ID, phoneNumberId: VAPI_ENV.VAPI_PHONE_NUMBER_ID, customer: { number: form.phone, name: "Ada Lovelace" } });

    const got = await app.api("GET", `/api/forms/${form.id}`);
    expect(got.body).toMatchObject({ id: form.id, status: "called", deadline: deadline.toISOString(), calledAt: deadline.toISOString(), lastError: null });
    expect(await calls(form.id)).toEqual([{ call_id: got.body.callId, phone: form.phone }]);

    // Nothing more comes, whatever time passes.
    await app.rig.clock.advance(3 * 3_600_000);
    expect(vapi.callsTo(form.phone)).toBe(1);
  });

  it("is never made for a form submitted before its deadline", async () => {
    const deadline = inHours(1);
    const form = await createForm(deadline);
    await app.rig.clock.advance(30 * 60_000);
    const res = await app.api("POST", `/api/forms/${form.id}/submit`);
    expect(res).toMatchObject({ status: 200, body: { status: "submitted", callCancelled: true } });
    expect(app.rig.server.state.messages[form.messageId]).toBeUndefined();

    await app.rig.clock.advance(2 * 3_600_000);
    expect(vapi.callsTo(form.phone)).toBe(0);
    expect((await app.api("GET", `/api/forms/${form.id}`)).body).toMatchObject({ status: "submitted", callId: null, calledAt: null });
  });

  it.each([
    ["later", 1, 3],
    ["earlier", 3, 1],
  ])("moved %s, is called once, at the new time", async (_, first, second) => {
    const form = await createForm(inHours(first));
    const moved = inHours(second);
    const res = await app.api("PATCH", `/api/forms/${form.id}`, { deadline: moved.toISOString() });
    expect(res).toMatchObject({ status: 200, body: { status: "pending", deadline: moved.toISOString() } });
    expect(res.body.callMessageId).not.toBe(form.messageId);
    expect(app.rig.server.state.messages[form.messageId]).toBeUndefined();

    await app.rig.clock.advanceTo(moved.getTime() - 1000);
    expect(vapi.callsTo(form.phone)).toBe(0);
    await app.rig.clock.advanceTo(moved);
    expect(vapi.callsTo(form.phone)).toBe(1);
    await app.rig.clock.advance(4 * 3_600_000);
    expect(vapi.callsTo(form.phone)).toBe(1);
    expect((await app.api("GET", `/api/forms/${form.id}`)).body).toMatchObject({ status: "called", calledAt: moved.toISOString() });
  });

  it("survives a restart of the app between creation and the deadline: nothing lives in the app", async () => {
    const deadline = inHours(1);
    const form = await createForm(deadline);
    await app.restart();
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(form.phone)).toBe(1);
    expect((await app.api("GET", `/api/forms/${form.id}`)).body).toMatchObject({ status: "called" });
  });
});
