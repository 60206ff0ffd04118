import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { server } from "../../../tests/mocks/server";
import { vapiCalls } from "../../../tests/mocks/vapi";
import { CRON_SECRET, sql } from "../../../tests/support/app";
import { startFormsApp, uniquePhone, type FormsApp } from "./support";

/** The forms API's answers to bad input: a 400 (or 404) that names the field, and nothing scheduled. */
let app: FormsApp;
beforeAll(async () => {
  app = await startFormsApp();
});
afterAll(async () => {
  await app.close();
});

const inHours = (h: number) => new Date(Math.floor(app.rig.clock.now() / 1000) * 1000 + h * 3_600_000).toISOString();
const valid = () => ({ patient: { name: "Grace Hopper", phone: uniquePhone() }, title: "Consent form", deadline: inHours(2) });
const nothingScheduled = async () => {
  expect(app.rig.server.state.messages).toEqual({});
  expect(await sql()`select 1 from job_messages where job = 'call-form' and status = 'scheduled'`).toHaveLength(0);
};
const formCount = async () => (await sql()<{ n: number }[]>`select count(*)::int as n from forms`)[0]!.n;

describe("POST /api/forms with bad input", () => {
  it.each<[string, string, RegExp, (b: ReturnType<typeof valid>) => unknown]>([
    ["no deadline", "deadline", /^deadline: is required: an ISO 8601 date-time/, ({ deadline: _, ...b }) => b],
    ["a malformed deadline", "deadline", /^deadline: must be an ISO 8601 date-time/, (b) => ({ ...b, deadline: "tomorrow at 9" })],
    ["a deadline without a zone", "deadline", /^deadline: must be an ISO 8601/, (b) => ({ ...b, deadline: "2030-01-01T09:00:00" })],
    ["a deadline in the past", "deadline", /^deadline: must be in the future \(it is .*, now is .*\)$/, (b) => ({ ...b, deadline: inHours(-1) })],
    ["a deadline more than a year ahead", "deadline", /^deadline: must be within 365 days/, (b) => ({ ...b, deadline: inHours(24 * 400) })],
    ["a phone number without the country code", "patient.phone", /^patient\.phone: must be a phone number in E\.164 format/, (b) => ({ ...b, patient: { ...b.patient, phone: "0301234567" } })],
    ["a phone number with letters", "patient.phone", /E\.164/, (b) => ({ ...b, patient: { ...b.patient, phone: "+1555CALLNOW" } })],
    ["no patient", "patient", /^patient: is required/, ({ patient: _, ...b }) => b],
    ["an unknown zone", "patient.zone", /IANA time zone/, (b) => ({ ...b, patient: { ...b.patient, zone: "Mars/Olympus" } })],
    ["an empty title", "title", /^title: must not be empty/, (b) => ({ ...b, title: " " })],
  ])("%s: 400 naming %s, nothing stored or scheduled", async (_, field, message, mutate) => {
    const before = await formCount();
    const res = await app.api("POST", "/api/forms", mutate(valid()));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(res.body.error).toMatch(message);
    expect(await formCount()).toBe(before);
    await nothingScheduled();
  });

  it("a body that is not JSON: 400", async () => {
    const res = await app.api("POST", "/api/forms", "{patient:");
    expect(res).toMatchObject({ status: 400, body: { field: "(body)", error: expect.stringMatching(/^the body must be JSON/) } });
    await nothingScheduled();
  });

  it("no key, a wrong one or CRON_SECRET: 401, nothing stored", async () => {
    expect((await app.api("POST", "/api/forms", valid(), null)).status).toBe(401);
    expect((await app.api("POST", "/api/forms", valid(), "Bearer not-the-secret")).status).toBe(401);
    expect(await app.api("POST", "/api/forms", valid(), `Bearer ${CRON_SECRET}`)).toMatchObject({ status: 401, body: { error: expect.stringMatching(/does not take CRON_SECRET.*FORMS_API_KEY/) } });
    expect((await app.api("GET", "/api/forms/7d0b6a3e-8f5e-4b52-9d7e-2a4c1f0e9b11", undefined, null)).status).toBe(401);
    await nothingScheduled();
  });
});

describe("an unknown or malformed form id", () => {
  const unknown = "7d0b6a3e-8f5e-4b52-9d7e-2a4c1f0e9b11";
  it.each([
    ["GET", `/api/forms/${unknown}`, undefined],
    ["PATCH", `/api/forms/${unknown}`, { deadline: "2099-01-01T00:00:00Z" }],
    ["POST", `/api/forms/${unknown}/submit`, undefined],
  ])("%s %s: 404 naming the id", async (method, path, body) => {
    const res = await app.api(method, path, body === undefined ? undefined : { deadline: inHours(3) });
    expect(res).toMatchObject({ status: 404, body: { field: "id", error: `id: no form ${unknown}` } });
    await nothingScheduled();
  });

  it("a malformed id: 400 naming the id", async () => {
    const res = await app.api("GET", "/api/forms/not-a-uuid");
    expect(res).toMatchObject({ status: 400, body: { field: "id" } });
  });
});

describe("PATCH with a bad deadline, and on a form no longer pending", () => {
  it("leaves the form and its call as they were", async () => {
    const vapi = vapiCalls();
    server.use(...vapi.handlers);
    const body = valid();
    const created = await app.api("POST", "/api/forms", body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      status: "pending",
      title: "Consent form",
      deadline: body.deadline,
      callMessageId: expect.stringMatching(/^msg_/),
      callId: null,
      calledAt: null,
      submittedAt: null,
      lastError: null,
    });
    const id = created.body.id as string;
    for (const bad of [{}, { deadline: inHours(-2) }, { deadline: "soon" }]) {
      const res = await app.api("PATCH", `/api/forms/${id}`, bad);
      expect(res).toMatchObject({ status: 400, body: { field: "deadline" } });
    }
    expect(Object.keys(app.rig.server.state.messages)).toEqual([created.body.callMessageId]);

    expect((await app.api("POST", `/api/forms/${id}/submit`)).status).toBe(200);
    const late = await app.api("PATCH", `/api/forms/${id}`, { deadline: inHours(5) });
    expect(late).toMatchObject({ status: 409, body: { error: "the form is submitted: only a pending form's deadline can move" } });
    await nothingScheduled();
    // Submitting again changes nothing.
    expect((await app.api("POST", `/api/forms/${id}/submit`)).body).toMatchObject({ status: "submitted" });
    await app.rig.clock.advance(6 * 3_600_000);
    expect(vapi.calls).toHaveLength(0);
  });
});
