import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { server } from "../../../tests/mocks/server";
import { vapiAnswers, vapiCalls } from "../../../tests/mocks/vapi";
import { ledger, qstashRequest, sql } from "../../../tests/support/app";
import { startFormsApp, uniquePhone, type FormsApp } from "./support";
import { jobRoute } from "@/lib/http/job-route";

/** What a call that Vapi refuses, rate-limits or fails does to the form and to QStash's deliveries. */
let app: FormsApp;
beforeEach(async () => {
  app = await startFormsApp();
});
afterEach(async () => {
  await app.close();
});

const inHours = (h: number) => new Date(Math.floor(app.rig.clock.now() / 1000) * 1000 + h * 3_600_000);
async function createForm(deadline: Date, phone = uniquePhone()) {
  const res = await app.api("POST", "/api/forms", { patient: { name: "Alan Turing", phone }, title: "Follow-up", deadline: deadline.toISOString() });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, phone, messageId: res.body.callMessageId as string };
}
const form = async (id: string) => (await app.api("GET", `/api/forms/${id}`)).body;
const deadLetters = (messageId: string) => sql()<{ job: string; response_status: number; retried: number }[]>`
  select job, response_status, retried from dead_letters where source_message_id = ${messageId}`;

describe("call-form when Vapi answers an error", () => {
  it("429: the delivery answers Retry-After, QStash comes back then, and the call is made once", async () => {
    const vapi = vapiCalls({ respond: (_, n) => (n === 1 ? vapiAnswers.rateLimited(120) : undefined) });
    server.use(...vapi.handlers);
    const deadline = inHours(1);
    const f = await createForm(deadline);
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(f.phone)).toBe(1);
    const events = await app.rig.client.logs({ filter: { messageId: f.messageId } });
    expect(events.events.find((e) => e.state === "RETRY")).toMatchObject({ nextDeliveryTime: deadline.getTime() + 120_000 });
    expect(await form(f.id)).toMatchObject({ status: "pending", callId: null });

    await app.rig.clock.advance(119_000);
    expect(vapi.callsTo(f.phone)).toBe(1);
    await app.rig.clock.advance(1_000);
    expect(vapi.callsTo(f.phone)).toBe(2);
    expect(await form(f.id)).toMatchObject({ status: "called", calledAt: new Date(deadline.getTime() + 120_000).toISOString() });
    const runs = (await ledger("call-form")).filter((r) => r.message_id === f.messageId);
    expect(runs.map((r) => [r.status, r.error?.name])).toEqual([
      ["failed", "RetryAfterError"],
      ["succeeded", undefined],
    ]);
  });

  it("500 on every attempt: retried by QStash, then its failure callback lands in the dead letters", async () => {
    const vapi = vapiCalls({ respond: () => vapiAnswers.serverError() });
    server.use(...vapi.handlers);
    const deadline = inHours(1);
    const f = await createForm(deadline);
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(f.phone)).toBe(1);
    expect(await deadLetters(f.messageId)).toEqual([]);
    // QStash's backoff: 12 s, 2 min 28 s, 30 min 8 s; then the failure callback.
    await app.rig.clock.advance(40 * 60_000);
    expect(vapi.callsTo(f.phone)).toBe(4);
    expect(await deadLetters(f.messageId)).toEqual([{ job: "call-form", response_status: 500, retried: 3 }]);
    expect(await form(f.id)).toMatchObject({ status: "pending", callId: null, lastError: expect.stringMatching(/Vapi: HTTP 500: Internal server error/) });
    const [effect] = await sql()<{ status: string; attempts: number }[]>`select status, attempts from effects where key = ${`call:${f.id}`}`;
    expect(effect).toEqual({ status: "unknown", attempts: 4 });
  });

  it("502 after Vapi placed the call: the retry finds the call in Vapi's list and never dials again", async () => {
    const vapi = vapiCalls({ respond: (_, n) => (n === 1 ? vapiAnswers.serverErrorAfterPlacing() : undefined), now: () => app.rig.clock.now() });
    server.use(...vapi.handlers);
    const deadline = inHours(1);
    const f = await createForm(deadline);
    await app.rig.clock.advanceTo(deadline);
    expect(vapi.callsTo(f.phone)).toBe(1);
    expect(await form(f.id)).toMatchObject({ status: "pending", callId: null });
    // QStash's first retry, 12 s later: the outcome was unknown, so Vapi is asked before anything is dialled.
    await app.rig.clock.advance(60_000);
    expect(vapi.callsTo(f.phone)).toBe(1);
    expect(await form(f.id)).toMatchObject({ status: "called", callId: vapi.placed[0]!.id });
    const [effect] = await sql()<{ status: string; attempts: number }[]>`select status, attempts from effects where key = ${`call:${f.id}`}`;
    expect(effect).toEqual({ status: "succeeded", attempts: 2 });
  });

  it("400 for the number: no retry, the form is call_failed with Vapi's reason", async () => {
    const vapi = vapiCalls({ respond: () => vapiAnswers.invalidNumber() });
    server.use(...vapi.handlers);
    const deadline = inHours(1);
    const f = await createForm(deadline);
    await app.rig.clock.advanceTo(deadline);
    await app.rig.clock.advance(3_600_000);
    expect(vapi.callsTo(f.phone)).toBe(1);
    expect(await form(f.id)).toMatchObject({ status: "call_failed", callId: null, lastError: expect.stringMatching(/HTTP 400: customer\.number must be a valid phone number in the E\.164 format/) });
    const [run] = (await ledger("call-form")).filter((r) => r.message_id === f.messageId);
    expect(run!.error).toMatchObject({ name: "NonRetryableError" });
    expect(await deadLetters(f.messageId)).toEqual([{ job: "call-form", response_status: 489, retried: 0 }]);
  });

  it("two deliveries of the same form at once (the deadline call and check-forms' message): one call", async () => {
    const vapi = vapiCalls({ delayMs: 150 });
    server.use(...vapi.handlers);
    const deadline = inHours(1);
    const f = await createForm(deadline);
    await app.rig.client.messages.cancel(f.messageId);
    await app.rig.clock.advanceTo(deadline);
    const route = jobRoute("jobs", async () => app.deps);
    const body = JSON.stringify({ formId: f.id });
    const deliver = (messageId: string) => route.POST(qstashRequest("/api/jobs/call-form", body, { messageId, url: `${app.url}/api/jobs/call-form` }), { params: Promise.resolve({ job: "call-form" }) });
    const answers = await Promise.all([deliver("msg_deadline"), deliver("msg_check_forms")]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const stats = await Promise.all(answers.map(async (a) => ((await a.json()) as { stats: { called: number; skipped: number } }).stats));
    expect(stats.map((s) => s.called).sort()).toEqual([0, 1]);
    expect(vapi.callsTo(f.phone)).toBe(1);
    expect(await form(f.id)).toMatchObject({ status: "called" });
  });
});
