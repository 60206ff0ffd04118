import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { alertMissedSlots } from "../../lib/alerts/incidents";
import { failureRoute } from "../../lib/http/failure-route";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { NOVU_KEY, novuTriggers } from "../mocks/novu";
import { resendEmails, RESEND_KEYS } from "../mocks/resend";
import { server } from "../mocks/server";
import { slackWebhook, SLACK_WEBHOOK_URL } from "../mocks/slack";
import { APP_URL, params, qstashRequest, sql, testDeps, uniqueName } from "../support/app";

/**
 * Failure alerts end to end through the real routes: a job's deliveries fail (the job route, signed
 * for real), QStash's failure callback dead-letters it (the failure route), and the vendors are msw
 * (Resend, Slack): the only thing not real is the far side of their HTTP.
 */
const ALERT_ENV = { ALERT_EMAIL: "oncall@example.test", RESEND_API_KEY: RESEND_KEYS.sendingOnly, EMAIL_FROM: "cronlayer <jobs@mail.example.test>", SLACK_WEBHOOK_URL, ALERT_COOLDOWN_MINUTES: "30" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

function app(name: string, env: Record<string, string> = {}) {
  const state = { failing: true };
  const job = defineJob({
    name,
    description: "fails while told to",
    handler: async () => {
      if (state.failing) throw new Error("the upstream API answered 503");
      return { ok: true };
    },
  });
  const deps = testDeps([job], [], { ...ALERT_ENV, ...env });
  const jobs = jobRoute("jobs", async () => deps);
  const failed = failureRoute(async () => deps);
  /** One delivery of a message, as QStash sends it (attempt n of the same message id). */
  const deliver = (messageId: string, retried = 0) => jobs.POST(qstashRequest(`/api/jobs/${name}`, "{}", { messageId, retried }), params(name));
  /** QStash's failure callback after the last retry of `messageId`. */
  const callback = (messageId: string) =>
    failed.POST(
      qstashRequest(
        "/api/jobs/failed",
        JSON.stringify({ status: 500, body: b64('{"error":"the upstream API answered 503"}'), retried: 2, maxRetries: 2, dlqId: `dlq_${randomUUID()}`, sourceMessageId: messageId, url: `${APP_URL}/api/jobs/${name}`, method: "POST", sourceBody: b64("{}") }),
      ),
    );
  /** A message that fails every retry and is dead-lettered. */
  const exhaust = async () => {
    const messageId = `msg_${randomUUID()}`;
    for (let n = 0; n <= 2; n++) expect((await deliver(messageId, n)).status).toBe(500);
    expect((await callback(messageId)).status).toBe(200);
    return messageId;
  };
  return { state, deliver, callback, exhaust, deps };
}

let resend: ReturnType<typeof resendEmails>;
let slack: ReturnType<typeof slackWebhook>;
let novu: ReturnType<typeof novuTriggers>;
beforeEach(() => {
  resend = resendEmails();
  slack = slackWebhook();
  novu = novuTriggers();
  server.use(...resend.handlers, ...slack.handlers, ...novu.handlers);
});

describe("failure alerts: one per incident, a cooldown, one recovery notice", () => {
  it("a job failing until its DLQ alerts once on Slack and by email; a second failure in the cooldown adds none; the next success sends one recovery notice", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    const first = await a.exhaust();
    expect(slack.calls).toHaveLength(1);
    expect(resend.calls).toHaveLength(1);
    expect(slack.calls[0]!.body.text).toContain(`[cronlayer] ${name} is failing`);
    expect(slack.calls[0]!.body.text).toContain("HTTP 500");
    expect(slack.calls[0]!.body.text).toContain(`${APP_URL}/ops/jobs/${name}`);
    expect(resend.calls[0]!.body).toMatchObject({ to: ["oncall@example.test"], subject: `[cronlayer] ${name} is failing` });
    // Resend dedupes on the same key the claim uses.
    expect(resend.calls[0]!.idempotencyKey).toMatch(new RegExp(`^alert:${name}:[0-9a-f-]{36}:1:email$`));

    await a.exhaust();
    // QStash redelivers a callback now and then: the same dead letter, nothing new.
    expect((await a.callback(first)).status).toBe(200);
    expect(slack.calls).toHaveLength(1);
    expect(resend.calls).toHaveLength(1);

    a.state.failing = false;
    expect((await a.deliver(`msg_${randomUUID()}`)).status).toBe(200);
    expect(slack.calls).toHaveLength(2);
    expect(resend.calls).toHaveLength(2);
    expect(slack.calls[1]!.body.text).toContain(`[cronlayer] ${name} recovered`);
    expect(slack.calls[1]!.body.text).toContain("2 failure(s), 1 alert(s)");
    expect(resend.calls[1]!.body.subject).toBe(`[cronlayer] ${name} recovered`);
    // Succeeding again is not news.
    expect((await a.deliver(`msg_${randomUUID()}`)).status).toBe(200);
    expect(slack.calls).toHaveLength(2);
    expect(resend.calls).toHaveLength(2);
    // A new failure after the recovery is a new incident: it alerts at once.
    a.state.failing = true;
    await a.exhaust();
    expect(slack.calls).toHaveLength(3);
    expect(slack.calls[2]!.body.text).toContain(`${name} is failing`);
  });

  it("past the cooldown, one more alert counts the failures that came meanwhile", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    await a.exhaust();
    await a.exhaust();
    await a.exhaust();
    expect(slack.calls).toHaveLength(1);
    // The cooldown (30 min) has passed for this incident.
    await sql()`update alert_incidents set last_alert_at = now() - interval '31 minutes' where job = ${name} and recovered_at is null`;
    await a.exhaust();
    expect(slack.calls).toHaveLength(2);
    expect(slack.calls[1]!.body.text).toContain(`${name} is still failing (3 failures since the last alert)`);
    expect(resend.calls.map((c) => c.idempotencyKey?.replace(/:[0-9a-f-]{36}:/, ":<incident>:"))).toEqual([`alert:${name}:<incident>:1:email`, `alert:${name}:<incident>:2:email`]);
  });

  it("two concurrent failure callbacks alert once: for two dead letters of a job, and for the same one delivered twice", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    const [m1, m2] = [`msg_${randomUUID()}`, `msg_${randomUUID()}`];
    const answers = await Promise.all([a.callback(m1), a.callback(m2), a.callback(m1)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(slack.calls).toHaveLength(1);
    expect(resend.calls).toHaveLength(1);
    expect(await sql()`select count(*)::int as n from dead_letters where job = ${name}`).toEqual([{ n: 2 }]);
    expect(await sql()`select split_part(key, ':', 5) as channel, status from effects where job = 'alerts' and subject = ${name} order by 1`).toEqual([
      { channel: "email", status: "succeeded" },
      { channel: "slack", status: "succeeded" },
    ]);
  });

  it("a channel that failed makes the callback answer 500, so QStash redelivers it; the redelivery sends it, and not the channel that worked", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    const down = slackWebhook({ respond: () => new Response("internal_error", { status: 500 }) });
    server.use(...down.handlers);
    const messageId = `msg_${randomUUID()}`;
    for (let n = 0; n <= 2; n++) await a.deliver(messageId, n);
    const first = await a.callback(messageId);
    expect(first.status).toBe(500);
    expect(((await first.json()) as { error: string }).error).toMatch(/^dead letter recorded, but its alert did not reach every channel \(email: sent; slack: unknown, to be sent again \(Slack: HTTP 500: internal_error\)\)\. QStash will retry the callback\.$/);
    expect(down.calls).toHaveLength(1);
    expect(resend.calls).toHaveLength(1);
    server.use(...slack.handlers);
    expect((await a.callback(messageId)).status).toBe(200);
    expect(slack.calls).toHaveLength(1);
    expect(resend.calls).toHaveLength(1);
    // Settled: a third delivery of the callback sends nothing.
    expect((await a.callback(messageId)).status).toBe(200);
    expect(slack.calls).toHaveLength(1);
    expect(await sql()`select dead_letters.job, count(*)::int as n from dead_letters where job = ${name} group by 1`).toEqual([{ job: name, n: 1 }]);
  });

  it("an unknown outcome is sent again on every channel: by email under the same idempotency key; on Slack, which has none, as a possible duplicate", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    // Slack posted the first time (perhaps) but the answer was a 503; Resend's answer was a 502.
    const flakySlack = slackWebhook({ respond: (_, n) => (n === 1 ? new Response("service_unavailable", { status: 503 }) : undefined) });
    const flakyResend = resendEmails({ respond: (_, n) => (n === 1 ? Response.json({ statusCode: 502, name: "internal_server_error", message: "bad gateway" }, { status: 502 }) : undefined) });
    server.use(...flakySlack.handlers, ...flakyResend.handlers);
    const messageId = `msg_${randomUUID()}`;
    expect((await a.callback(messageId)).status).toBe(500);
    const again = await a.callback(messageId);
    expect(again.status).toBe(200);
    expect(flakySlack.calls).toHaveLength(2);
    expect(flakySlack.calls[1]!.body.text).toBe(flakySlack.calls[0]!.body.text);
    expect(flakyResend.calls.map((c) => c.idempotencyKey)).toEqual([flakyResend.calls[0]!.idempotencyKey, flakyResend.calls[0]!.idempotencyKey]);
    expect(await sql()`select split_part(key, ':', 5) as channel, status, attempts from effects where job = 'alerts' and subject = ${name} order by 1`).toEqual([
      { channel: "email", status: "succeeded", attempts: 2 },
      { channel: "slack", status: "succeeded", attempts: 2 },
    ]);
  });

  it("a deleted Slack webhook is not retried (a person must replace it): the callback is answered 200 once the other channels went out", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    const gone = slackWebhook({ respond: () => new Response("no_service", { status: 404 }) });
    server.use(...gone.handlers);
    expect((await a.callback(`msg_${randomUUID()}`)).status).toBe(200);
    expect(resend.calls).toHaveLength(1);
    expect(await sql()`select status from effects where job = 'alerts' and subject = ${name} and key like '%:slack'`).toEqual([{ status: "abandoned" }]);
  });
});

describe("recovery is decided by the run's close", () => {
  /** The names of the database calls a delivery makes, in order. */
  function countCalls(db: { rpc: (fn: string, ...rest: never[]) => Promise<unknown> }): string[] {
    const calls: string[] = [];
    const rpc = db.rpc.bind(db);
    db.rpc = (fn: string, ...rest: never[]) => {
      calls.push(fn);
      return rpc(fn, ...rest);
    };
    return calls;
  }

  it("a successful delivery is one open and one close: no third call to ask whether an incident was open", async () => {
    const name = uniqueName("steady");
    const a = app(name);
    a.state.failing = false;
    const calls = countCalls(a.deps.db as never);
    expect((await a.deliver(`msg_${randomUUID()}`)).status).toBe(200);
    expect(calls).toEqual(["job_run_open", "job_run_close"]);
    // With an incident open, the same two calls end it; the notice's sends are the only others.
    a.state.failing = true;
    await a.exhaust();
    a.state.failing = false;
    calls.length = 0;
    expect((await a.deliver(`msg_${randomUUID()}`)).status).toBe(200);
    expect(calls.filter((fn) => !fn.startsWith("effects_"))).toEqual(["job_run_open", "job_run_close"]);
    expect(slack.calls.map((c) => c.body.text as string).filter((t) => t.includes(`${name} recovered`))).toHaveLength(1);
  });

  it("ten concurrent successes after an incident send one recovery notice per channel", async () => {
    const name = uniqueName("flaky");
    const a = app(name);
    await a.exhaust();
    a.state.failing = false;
    const answers = await Promise.all(Array.from({ length: 10 }, () => a.deliver(`msg_${randomUUID()}`)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(slack.calls.filter((c) => (c.body.text as string).includes(`${name} recovered`))).toHaveLength(1);
    expect(resend.calls.filter((c) => c.body.subject === `[cronlayer] ${name} recovered`)).toHaveLength(1);
    expect(await sql()`select count(*)::int as n from alert_incidents where job = ${name} and recovered_at is null`).toEqual([{ n: 0 }]);
  });

  it("the close of a catch-up or backfill success leaves the incident open; a plain run's close ends it, once", async () => {
    const name = uniqueName("cron");
    const a = app(name);
    const db = a.deps.db;
    await db.rpc("alert_note", { p_job: name, p_reason: "missed:2035-01-01T10:00:00.000Z", p_now: new Date(), p_cooldown_ms: 60_000 });
    const runOf = async (trigger: string, slot?: Date) =>
      ((await db.rpc<{ decision: string; run_id: string }>("job_run_open", { p_job: name, p_trigger: trigger, p_message_id: `msg_${randomUUID()}`, p_kind: "message", p_overlap: "allow", p_slot_at: slot ?? null })).run_id);
    const close = (runId: string) => db.rpc<{ closed: boolean; recovered?: { decision: string; key: string; failures: number } }>("job_run_close", { p_run_id: runId, p_status: "succeeded" });
    for (const [trigger, slot] of [["catch-up", new Date("2035-01-01T10:00:00Z")], ["backfill", new Date("2035-01-01T09:00:00Z")]] as const) {
      const closed = await close(await runOf(trigger, slot));
      expect(closed).toMatchObject({ closed: true });
      expect(closed.recovered).toBeUndefined();
    }
    expect(await sql()`select count(*)::int as n from alert_incidents where job = ${name} and recovered_at is null`).toEqual([{ n: 1 }]);
    const ended = await close(await runOf("qstash"));
    expect(ended.recovered).toMatchObject({ decision: "recovered", failures: 1 });
    expect(ended.recovered!.key).toMatch(new RegExp(`^alert:${name}:[0-9a-f-]{36}:recovered$`));
    expect((await close(await runOf("qstash"))).recovered).toBeUndefined();
    // A failed run's close ends nothing.
    await db.rpc("alert_note", { p_job: name, p_reason: "missed:2035-01-01T11:00:00.000Z", p_now: new Date(), p_cooldown_ms: 60_000 });
    const failed = await db.rpc<{ recovered?: unknown }>("job_run_close", { p_run_id: await runOf("qstash"), p_status: "failed", p_error: { name: "Error", message: "x" } });
    expect(failed.recovered).toBeUndefined();
  });
});

describe("alert channels and the watchdog's missed slots", () => {
  it("triggers the Novu workflow when NOVU_ALERT_WORKFLOW is set, with the alert key as transaction id", async () => {
    const name = uniqueName("flaky");
    const a = app(name, { NOVU_API_KEY: NOVU_KEY, NOVU_ALERT_WORKFLOW: "cronlayer-alert" });
    await a.exhaust();
    expect(novu.calls).toHaveLength(1);
    expect(novu.calls[0]!.body).toMatchObject({ name: "cronlayer-alert", to: { subscriberId: "cronlayer-on-call", email: "oncall@example.test" }, payload: { kind: "incident", subject: `[cronlayer] ${name} is failing` } });
    expect(novu.calls[0]!.body.transactionId).toMatch(new RegExp(`^alert:${name}:[0-9a-f-]{36}:1:novu$`));
    expect(slack.calls).toHaveLength(1);
  });

  it("notes each missed slot once: the first alerts, the others and a second watchdog pass add nothing, the next success recovers", async () => {
    const name = uniqueName("cron");
    const a = app(name);
    const slots = [new Date("2035-01-01T10:00:00Z"), new Date("2035-01-01T11:00:00Z")];
    const first = await alertMissedSlots(a.deps, [{ job: name, slots }]);
    expect(first.map((o) => o.decision)).toEqual(["alert", "quiet"]);
    expect(slack.calls).toHaveLength(1);
    expect(slack.calls[0]!.body.text).toContain("missed its 2035-01-01T10:00:00.000Z run");
    expect((await alertMissedSlots(a.deps, [{ job: name, slots }])).map((o) => o.decision)).toEqual(["alert", "quiet"]);
    expect(slack.calls).toHaveLength(1);
    a.state.failing = false;
    expect((await a.deliver(`msg_${randomUUID()}`)).status).toBe(200);
    expect(slack.calls).toHaveLength(2);
    expect(slack.calls[1]!.body.text).toContain("2 failure(s), 1 alert(s)");
  });

  it("records alerts in the outbox on a local stack without vendor keys", async () => {
    const name = uniqueName("flaky");
    const local = app(name, { APP_ENV: "local", APP_URL: "http://127.0.0.1:3000", ALERT_EMAIL: "", RESEND_API_KEY: "", SLACK_WEBHOOK_URL: "" });
    const out = await alertMissedSlots(local.deps, [{ job: name, slots: [new Date("2035-02-01T00:00:00Z")] }]);
    expect(out).toMatchObject([{ decision: "alert", channels: { slack: "recorded in the outbox" } }]);
    expect(slack.calls).toHaveLength(0);
    const rows = await sql()`select provider from provider_outbox where idempotency_key like ${`alert:${name}:%`}`;
    expect(rows.map((r) => r.provider)).toEqual(["slack"]);
  });
});
