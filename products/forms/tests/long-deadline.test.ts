import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { publishParked } from "@/lib/qstash/messages";
import { server } from "../../../tests/mocks/server";
import { vapiCalls, VAPI_ENV } from "../../../tests/mocks/vapi";
import { startFormsApp, uniquePhone, type FormsApp } from "./support";

/**
 * A deadline further out than QStash's maximum delay, against the local QStash server started as
 * the free plan (7 days, which it refuses past, as QStash does). The sweep keep-alive and the
 * watchdog make (publishParked) is called here as they would, on the manual clock.
 */
const DAY = 86_400_000;
let app: FormsApp;
let vapi: ReturnType<typeof vapiCalls>;
beforeEach(async () => {
  app = await startFormsApp({ ...VAPI_ENV, QSTASH_MAX_DELAY: "7d" }, { maxDelayMs: 7 * DAY });
  vapi = vapiCalls();
  server.use(...vapi.handlers);
});
afterEach(async () => {
  await app.close();
});

const inHours = (h: number) => new Date(Math.floor(app.rig.clock.now() / 1000) * 1000 + h * 3_600_000);
const sweep = () => publishParked(app.deps, new Date(app.rig.clock.now()));
const pending = () => Object.keys(app.rig.server.state.messages);

async function createForm(deadline: Date, phone = uniquePhone()) {
  const res = await app.api("POST", "/api/forms", { patient: { name: "Ada Lovelace", phone }, title: "Pre-visit questionnaire", deadline: deadline.toISOString() });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, phone, messageId: res.body.callMessageId as string };
}

describe("a form with a deadline 30 days ahead (QStash takes 7)", () => {
  it("is created, and its call is made at the deadline once a sweep has published it", async () => {
    const deadline = inHours(30 * 24);
    const form = await createForm(deadline);
    expect(form.messageId).toMatch(/^parked_/);
    expect(pending()).toEqual([]);

    // Eight days before the deadline it is still out of range: the sweep leaves it.
    await app.rig.clock.advanceTo(deadline.getTime() - 8 * DAY);
    expect(await sweep()).toEqual({ published: 0, late: 0, errors: [] });
    expect(pending()).toEqual([]);
    // The first sweep within 7 days (less the hour's margin) publishes it for the deadline.
    await app.rig.clock.advanceTo(deadline.getTime() - 7 * DAY + 2 * 3_600_000);
    expect(await sweep()).toEqual({ published: 1, late: 0, errors: [] });
    expect(Object.values(app.rig.server.state.messages).map((m) => m.notBefore)).toEqual([deadline.getTime()]);
    expect((await app.api("GET", `/api/forms/${form.id}`)).body).toMatchObject({ status: "pending", callMessageId: form.messageId });

    await app.rig.clock.advanceTo(deadline.getTime() - 1000);
    expect(vapi.callsTo(form.phone)).toBe(0);
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(form.phone)).toBe(1);
    expect((await app.api("GET", `/api/forms/${form.id}`)).body).toMatchObject({ status: "called", calledAt: deadline.toISOString() });
    await app.rig.clock.advance(DAY);
    expect(vapi.callsTo(form.phone)).toBe(1);
  });

  it("moved to 3 hours ahead, is called then, once; submitted, its parked call is never made", async () => {
    const moved = await createForm(inHours(30 * 24));
    const submitted = await createForm(inHours(20 * 24));
    const soon = inHours(3);
    const res = await app.api("PATCH", `/api/forms/${moved.id}`, { deadline: soon.toISOString() });
    expect(res).toMatchObject({ status: 200, body: { status: "pending", callMessageId: expect.stringMatching(/^msg_/) } });
    expect(await app.api("POST", `/api/forms/${submitted.id}/submit`)).toMatchObject({ status: 200, body: { status: "submitted", callCancelled: true } });

    await app.rig.clock.advanceTo(soon);
    expect(vapi.callsTo(moved.phone)).toBe(1);
    // Past both old deadlines, sweeping as it goes: nothing else is published or called.
    for (let day = 1; day <= 31; day++) {
      await app.rig.clock.advanceTo(soon.getTime() + day * DAY);
      expect(await sweep()).toEqual({ published: 0, late: 0, errors: [] });
    }
    expect(vapi.callsTo(moved.phone)).toBe(1);
    expect(vapi.callsTo(submitted.phone)).toBe(0);
  });
});
